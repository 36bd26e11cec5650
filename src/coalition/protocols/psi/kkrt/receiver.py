"""KKRT16 PSI, receiver role (the guest): learns the intersection. Protocol, leakage and
parameters: :mod:`coalition.protocols.psi.kkrt.spec`.

The receiver is the base-OT *sender* (it holds both seeds of each column), builds the cuckoo
table, and streams ``U`` chunk by chunk so the sender works while later chunks are computed.
"""

from __future__ import annotations

import secrets

import numpy as np
import numpy.typing as npt

from coalition.compute.bitmatrix import transpose_bits
from coalition.core.errors import ConfigError, ProtocolError
from coalition.core.ids import Party
from coalition.crypto.ot import random_ot_send
from coalition.crypto.suite import primitives
from coalition.crypto.symmetric import cr_hash
from coalition.protocols.psi.kkrt.cuckoo import EMPTY, NUM_HASHES, bin_count, cuckoo_insert
from coalition.protocols.psi.kkrt.extension import (
    ColumnPrg,
    match_values,
    put_rows,
    scatter_values,
    take_rows,
)
from coalition.protocols.psi.kkrt.hashing import (
    SEED_BYTES,
    SessionKeys,
    candidate_bins,
    codewords,
    derive_keys,
    hash_ids,
)
from coalition.protocols.psi.kkrt.spec import (
    CODE_BITS,
    MAX_TRUNCATION_BYTES,
    SENDER_VALUES,
    U_CHUNK,
    KkrtSetup,
    default_chunk_bins,
)
from coalition.protocols.psi.session import Session
from coalition.protocols.psi.spec import Delivery, PsiResult, truncation_bytes
from coalition.protocols.psi.wire import recv_batches

__all__ = ["BASE_OT", "MATRIX", "VALUES", "run_kkrt_guest"]

# sub-namespaces shared with the sender role
BASE_OT, MATRIX, VALUES = "kkrt_base_ot", "kkrt_matrix", "kkrt_values"

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


def run_kkrt_guest(s: Session, *, chunk_bins: int | None = None) -> PsiResult:
    """Run the receiver role against the single host; see :mod:`.spec`. ``chunk_bins``
    (a multiple of 64) overrides :func:`~.spec.default_chunk_bins`."""
    hosts = s.ctx.hosts
    if len(hosts) != 1:
        raise ConfigError("KKRT PSI is 2-party; use ECDH for 3 or more parties",
                          hosts=len(hosts))
    if s.params.delivery == Delivery.CARDINALITY:
        raise ConfigError("KKRT PSI shows the guest the members; use ECDH for cardinality")
    host = hosts[0]
    n = len(s.ids)
    bins = bin_count(n, s.params.stat_bits)
    setup = KkrtSetup(seed=secrets.token_bytes(SEED_BYTES), bins=bins,
                      chunk_bins=chunk_bins or default_chunk_bins(bins))
    s.hello_to([host], kkrt=setup.to_wire())
    suite = s.params.suite
    seeds0, seeds1 = random_ot_send(s.ctx, host, CODE_BITS, name=BASE_OT, suite=suite)
    hello = s.hello_from(host)
    n_host = hello["n"]
    sender_seed = hello.get("kkrt")
    if not isinstance(sender_seed, bytes):
        raise ProtocolError("KKRT host hello lacks its seed", peer=str(host))
    keys = derive_keys(setup.seed, sender_seed, suite)
    width = truncation_bytes(n, n_host, s.params.stat_bits)
    if width > MAX_TRUNCATION_BYTES:
        raise ConfigError("sets too large for KKRT truncation at this stat_bits", width=width)
    s.extra.update(truncated_bytes=width, bins=setup.bins, chunk_bins=setup.chunk_bins,
                   code_bits=CODE_BITS)

    items = hash_ids(s.ids.ids, keys)
    cipher = primitives(suite).block_cipher
    table, which = cuckoo_insert(candidate_bins(items, keys, setup.bins), setup.bins)
    mine = _stream_matrix(s, host, setup, keys, items=items, table=table, which=which,
                          prg0=ColumnPrg(seeds0, cipher), prg1=ColumnPrg(seeds1, cipher),
                          width=width)

    got_mine, got_theirs = [], []
    for i in range(NUM_HASHES):
        theirs = recv_batches(s.ctx.sub(VALUES).sub(str(i)), host, SENDER_VALUES, n_host,
                              width=width, batch_rows=s.params.batch_rows)
        placed = np.flatnonzero(which == i)
        ia, ib = match_values(mine[placed], theirs)
        got_mine.append(placed[ia])
        got_theirs.append(ib)
        s.tick("match", i + 1, NUM_HASHES)
    return s.deliver_as_guest(host, np.concatenate(got_mine), np.concatenate(got_theirs))


def _stream_matrix(s: Session, host: Party, setup: KkrtSetup, keys: SessionKeys, *,
                   items: U64, table: I64, which: npt.NDArray[np.int8], prg0: ColumnPrg,
                   prg1: ColumnPrg, width: int) -> npt.NDArray[np.uint8]:
    """Send ``U`` chunk by chunk; return this party's OPRF value of every item."""
    mine = np.empty((items.shape[0], width), dtype=np.uint8)
    matrix = s.ctx.sub(MATRIX)
    for c, chunk_ctx in matrix.iter(setup.chunks):
        lo, hi = setup.chunk_range(c)
        words = (hi - lo) // 64
        t_cols = prg0.next(words)
        d_cols = prg1.next(words)
        np.bitwise_xor(d_cols, t_cols, out=d_cols)
        # rows block-major, (4, bins, 2): see transpose_bits(group=2)
        t_rows = transpose_bits(t_cols, group=2)
        u_rows = transpose_bits(d_cols, group=2)  # T xor G(k^1); codewords are xored in below
        occupied = np.flatnonzero(table[lo:hi] != EMPTY)
        owners = table[lo + occupied]
        by_hash = which[owners]
        code = np.zeros_like(u_rows)  # empty bins keep the zero codeword
        for i in range(NUM_HASHES):
            sel = by_hash == i
            put_rows(code, occupied[sel], codewords(keys, i, items[owners[sel]]))
        u_rows ^= code
        chunk_ctx.send(host, U_CHUNK, u_rows)
        scatter_values(mine, owners, cr_hash(keys.perm, take_rows(t_rows, occupied),
                                             (lo + occupied).astype(np.uint64), width))
        s.tick("extend", c + 1, setup.chunks)
    return mine
