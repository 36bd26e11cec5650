"""Unbalanced / periodic PSI with a blinded OPRF, client (guest, small side) role.

The server (host, large side) holds a key ``k`` and a cached table ``{trunc(F(k, y))}`` over its
IDs (:class:`~coalition.protocols.psi.oprf.cache.PrfTable`; RFC 9497-style OPRF over the
edwards25519 prime-order group, or SM2/SM3 under the ``sm`` suite, :mod:`coalition.crypto.oprf`)::

    G -> H : hello (|X|, the (epoch, version) of G's cached copy of H's table, if any)
    H      : sync table: PRF only for new IDs, tombstones for removed ones
    H -> G : table info; then the whole table (sorted) or only additions + tombstones
    G -> H : [r_x]H1(x) for x in X            (fresh blind per ID)
    H -> G : [k][r_x]H1(x)
    G      : F(k, x) = H2(x, [1/r_x]...), truncate, match against the table
    G -> H : positions in the sorted table (both) or the size (guest)

Who learns what (honest-but-curious; one-more-gap-DH):

* the server learns ``|X|`` and whether/which cached version the client holds; with ``guest``
  delivery, ``|X ∩ Y|``; with ``both``, ``X ∩ Y``;
* the client learns ``|Y|``, ``X ∩ Y``, and, across runs of one epoch, how many rows the server
  added and removed — and whether IDs it queried before were among them, since it keeps their
  PRF values. It cannot test IDs it never ran through the online OPRF; the server's key
  rotation (a new epoch) bounds how long a table copy is useful.

Cardinality-only delivery is refused for this engine: the client necessarily sees which of its
PRF values match. ``both`` costs nothing extra: the server maps table positions to rows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from coalition.core.errors import ProtocolError
from coalition.crypto import oprf
from coalition.protocols.psi.matching import as_keys, contains, match, truncate
from coalition.protocols.psi.oprf.cache import ClientTableCache
from coalition.protocols.psi.session import Session
from coalition.protocols.psi.spec import (
    NS_BLINDED,
    NS_EVALUATED,
    NS_TABLE_ADDED,
    NS_TABLE_FULL,
    NS_TABLE_REMOVED,
    OPRF_BLINDED,
    OPRF_EVALUATED,
    OPRF_TABLE,
    OPRF_TABLE_INFO,
    PsiResult,
)
from coalition.protocols.psi.wire import batch_count, iter_batches, recv_batches

__all__ = ["run_oprf_client"]

U8 = npt.NDArray[np.uint8]


def _receive_table(s: Session, host_name: str, cache: ClientTableCache | None,
                   cached: tuple[str, int, U8] | None) -> U8:
    host, width, rows = s.ctx.hosts[0], s.params.oprf_prf_bytes, s.params.batch_rows
    info = s.ctx.recv(host, OPRF_TABLE_INFO)
    if not isinstance(info, dict) or info.get("mode") not in ("full", "delta"):
        raise ProtocolError("malformed table info", peer=str(host))
    if info["mode"] == "full":
        table = recv_batches(s.ctx.sub(NS_TABLE_FULL), host, OPRF_TABLE, int(info["n_total"]),
                             width=width, batch_rows=rows)
    else:
        if cached is None or cached[0] != info["epoch"]:
            raise ProtocolError("server sent a delta for a table we do not hold", peer=str(host))
        added = recv_batches(s.ctx.sub(NS_TABLE_ADDED), host, OPRF_TABLE, int(info["n_added"]),
                             width=width, batch_rows=rows)
        removed = recv_batches(s.ctx.sub(NS_TABLE_REMOVED), host, OPRF_TABLE,
                               int(info["n_removed"]), width=width, batch_rows=rows)
        old = cached[2]
        table = np.concatenate([old[~contains(removed, old)], added])
        s.extra["table_delta"] = {"added": int(added.shape[0]), "removed": int(removed.shape[0])}
    table = table[np.argsort(as_keys(table), kind="stable")] if table.shape[0] else table
    if table.shape[0] != int(info["n_total"]):
        if cache is not None:  # a copy that no longer patches cleanly: start over next run
            cache.forget(host_name)
        raise ProtocolError("table size differs from the server's", peer=str(host),
                            expected=int(info["n_total"]), got=int(table.shape[0]))
    s.extra["table_mode"] = info["mode"]
    if cache is not None:
        cache.store(host_name, str(info["epoch"]), int(info["version"]), table)
    return table


def run_oprf_client(s: Session, cache: ClientTableCache | None = None) -> PsiResult:
    """Run the client side; see the module docstring."""
    hosts = s.ctx.hosts
    if len(hosts) != 1:
        raise ProtocolError("OPRF-PSI runs between one guest and one host", hosts=len(hosts))
    host = hosts[0]
    cached = cache.load(str(host)) if cache is not None else None
    s.hello_to([host], cached=None if cached is None else {"epoch": cached[0],
                                                           "version": cached[1]})
    s.hello_from(host)
    table = _receive_table(s, str(host), cache, cached)

    rows, ex = s.params.batch_rows, s.ctx.executor
    encoded = s.ids.encoded()
    n = len(encoded)
    values: list[U8] = []
    states = []
    blinded_ctx = s.ctx.sub(NS_BLINDED)
    for i, sub in blinded_ctx.iter(batch_count(n, rows)):
        state, blinded = oprf.blind(encoded[i * rows:(i + 1) * rows], executor=ex,
                                    suite=s.params.suite)
        states.append(state)
        sub.send(host, OPRF_BLINDED, blinded)
        s.tick("blind own IDs", min(n, (i + 1) * rows), n)
    for i, evaluated in enumerate(iter_batches(s.ctx.sub(NS_EVALUATED), host, OPRF_EVALUATED, n,
                                               width=oprf.point_bytes(s.params.suite),
                                               batch_rows=rows)):
        outs = oprf.unblind_finalize(states[i], evaluated, executor=ex)
        out_bytes = oprf.output_bytes(s.params.suite)
        raw = np.frombuffer(b"".join(outs), dtype=np.uint8).reshape(-1, out_bytes) \
            if outs else np.zeros((0, out_bytes), dtype=np.uint8)
        values.append(truncate(raw, s.params.oprf_prf_bytes))
        s.tick("unblind", min(n, (i + 1) * rows), n)
    mine, positions = match(np.concatenate(values), table)
    return s.deliver_as_guest(host, mine, positions)
