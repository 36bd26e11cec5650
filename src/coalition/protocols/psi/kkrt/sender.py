"""KKRT16 PSI, sender role (the host): learns ``|X ∩ Y|``, or ``X ∩ Y`` with delivery
``both``. Protocol, leakage and parameters: :mod:`coalition.protocols.psi.kkrt.spec`.

The sender is the base-OT *receiver* with the secret choice string ``s``. It consumes ``U``
chunk by chunk as it arrives: each chunk gives the rows ``Q`` of its bins, and every item whose
``h_i`` falls in the chunk is evaluated there (items are bucketed by chunk once, up front).
"""

from __future__ import annotations

import secrets

import numpy as np
import numpy.typing as npt

from coalition.compute.bitmatrix import transpose_bits
from coalition.core.errors import ConfigError, ProtocolError
from coalition.core.ids import Party
from coalition.crypto.ot import random_bits, random_ot_receive
from coalition.crypto.suite import primitives
from coalition.crypto.symmetric import cr_hash
from coalition.protocols.psi.kkrt.cuckoo import NUM_HASHES
from coalition.protocols.psi.kkrt.extension import (
    ColumnPrg,
    gather_values,
    s_mask,
    scatter_values,
    take_rows,
)
from coalition.protocols.psi.kkrt.hashing import (
    CODE_BLOCKS,
    SEED_BYTES,
    SessionKeys,
    candidate_bins,
    codewords,
    derive_keys,
    hash_ids,
)
from coalition.protocols.psi.kkrt.receiver import BASE_OT, MATRIX, VALUES
from coalition.protocols.psi.kkrt.spec import (
    CODE_BITS,
    MAX_TRUNCATION_BYTES,
    SENDER_VALUES,
    U_CHUNK,
    KkrtSetup,
)
from coalition.protocols.psi.session import Session, secret_permutation
from coalition.protocols.psi.spec import PsiResult, truncation_bytes
from coalition.protocols.psi.wire import send_batches

__all__ = ["run_kkrt_host"]

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


def run_kkrt_host(s: Session) -> PsiResult:
    """Run the sender role against the guest; see :mod:`.spec`."""
    guest = s.ctx.guest
    if len(s.ctx.hosts) != 1:
        raise ConfigError("KKRT PSI is 2-party; use ECDH for 3 or more parties")
    hello = s.hello_from(guest)
    n_guest = hello["n"]
    setup = KkrtSetup.from_wire(hello.get("kkrt"), n_guest)
    secret = random_bits(CODE_BITS)
    suite = s.params.suite
    seeds = random_ot_receive(s.ctx, guest, secret, name=BASE_OT, suite=suite)
    own_seed = secrets.token_bytes(SEED_BYTES)
    s.hello_to([guest], kkrt=own_seed)
    keys = derive_keys(setup.seed, own_seed, suite)
    n = len(s.ids)
    width = truncation_bytes(n_guest, n, s.params.stat_bits)
    if width > MAX_TRUNCATION_BYTES:
        raise ConfigError("sets too large for KKRT truncation at this stat_bits", width=width)
    s.extra.update(truncated_bytes=width, bins=setup.bins, chunk_bins=setup.chunk_bins,
                   code_bits=CODE_BITS)

    items = hash_ids(s.ids.ids, keys)
    bins = candidate_bins(items, keys, setup.bins)
    values = _evaluate(s, guest, setup, keys, items=items, bins=bins,
                       prg=ColumnPrg(seeds, primitives(suite).block_cipher),
                       secret=s_mask(secret).reshape(CODE_BLOCKS, 1, 2), width=width)
    order = secret_permutation(n)  # one order for all three lists: a position names an item
    for i in range(NUM_HASHES):
        send_batches(s.ctx.sub(VALUES).sub(str(i)), guest, SENDER_VALUES,
                     gather_values(values[i], order), batch_rows=s.params.batch_rows)
    return s.deliver_as_host(guest, order)


def _by_chunk(bins: I64, setup: KkrtSetup) -> tuple[list[I64], list[I64]]:
    """Per hash function: items sorted by the chunk of their bin, and the chunk boundaries."""
    orders, bounds = [], []
    edges = np.arange(setup.chunks + 1, dtype=np.int64)
    for i in range(NUM_HASHES):
        chunk = bins[:, i] // setup.chunk_bins
        # small integer keys: numpy's stable sort is a radix sort here
        order = np.argsort(chunk.astype(np.uint16 if setup.chunks < 1 << 16 else np.int64),
                           kind="stable")
        orders.append(order)
        bounds.append(np.searchsorted(chunk[order], edges))
    return orders, bounds


def _evaluate(s: Session, guest: Party, setup: KkrtSetup, keys: SessionKeys, *, items: U64,
              bins: I64, prg: ColumnPrg, secret: U64, width: int) -> list[U8]:
    """Receive ``U`` chunk by chunk; return the OPRF values ``(n, width)`` per hash index."""
    n = items.shape[0]
    values = [np.empty((n, width), dtype=np.uint8) for _ in range(NUM_HASHES)]
    orders, bounds = _by_chunk(bins, setup)
    widest = max([setup.chunk_bins, *(int(np.diff(b).max(initial=0)) for b in bounds)])
    # s repeated along the rows: and-ing with a broadcast (b, 1, 2) runs 4x slower
    mask = np.ascontiguousarray(np.broadcast_to(secret, (CODE_BLOCKS, widest, 2)))
    for c, chunk_ctx in s.ctx.sub(MATRIX).iter(setup.chunks):
        lo, hi = setup.chunk_range(c)
        u_rows = chunk_ctx.recv(guest, U_CHUNK)
        shape = (CODE_BLOCKS, hi - lo, 2)
        if (not isinstance(u_rows, np.ndarray) or u_rows.dtype != np.uint64
                or u_rows.shape != shape):
            raise ProtocolError("KKRT matrix chunk has the wrong shape", peer=str(guest),
                                chunk=c, expected=list(shape))
        # Q = G(k^s) xor (U and s), rows block-major like U
        q_rows = transpose_bits(prg.next((hi - lo) // 64), group=2)
        u_rows &= mask[:, :hi - lo]
        q_rows ^= u_rows
        for i in range(NUM_HASHES):
            members = orders[i][bounds[i][c]:bounds[i][c + 1]]
            at = bins[members, i]
            rows = codewords(keys, i, items[members])
            rows &= mask[:, :members.size]
            rows ^= take_rows(q_rows, at - lo)
            scatter_values(values[i], members,
                           cr_hash(keys.perm, rows, at.astype(np.uint64), width))
        s.tick("evaluate", c + 1, setup.chunks)
    return values
