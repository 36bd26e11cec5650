"""Unbalanced / periodic OPRF-PSI, server (host, large side) role. Protocol and leakage:
:mod:`.client`. Pass a persistent :class:`~.cache.PrfTable` to reuse the PRF table
across runs; without one, the table is built for this run only."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from coalition.core.errors import ConfigError
from coalition.crypto.oprf import point_bytes
from coalition.protocols.psi.oprf.cache import PrfTable, sorted_rows
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
from coalition.protocols.psi.wire import iter_batches, send_batches

__all__ = ["run_oprf_server"]


def _cached_state(hello: dict[str, object]) -> tuple[str, int] | None:
    cached = hello.get("cached")
    if (isinstance(cached, dict) and isinstance(cached.get("epoch"), str)
            and isinstance(cached.get("version"), int)):
        return cached["epoch"], cached["version"]
    return None


def run_oprf_server(s: Session, table: PrfTable | None = None) -> PsiResult:
    """Run the server side; see :mod:`.client`."""
    guest, rows, ex = s.ctx.guest, s.params.batch_rows, s.ctx.executor
    hello = s.hello_from(guest)
    table = table if table is not None else PrfTable(prf_bytes=s.params.oprf_prf_bytes,
                                                     suite=s.params.suite)
    if table.suite != s.params.suite:
        raise ConfigError("the PRF table belongs to another crypto suite",
                          table=table.suite.value, job=s.params.suite.value)
    stats = table.sync(s.ids, executor=ex)
    s.extra["table_sync"] = {"added": stats.added, "removed": stats.removed,
                             "reused": stats.reused, "version": stats.version}
    s.hello_to([guest])
    s.tick("PRF table", 1, 1)

    mine = table.values_for(s.ids)  # PRF value of each of our IDs, in our order
    order = sorted_rows(mine)  # the table travels sorted: position p is our row order[p]
    cached = _cached_state(hello)
    delta = table.delta_since(*cached) if cached is not None else None
    info = {"epoch": table.epoch, "version": table.version, "n_total": len(mine),
            "mode": "full" if delta is None else "delta"}
    if delta is None:
        s.ctx.send(guest, OPRF_TABLE_INFO, info)
        _send_sorted(s, NS_TABLE_FULL, mine[order])
    else:
        added, removed = delta
        s.ctx.send(guest, OPRF_TABLE_INFO, info | {"n_added": int(added.shape[0]),
                                                   "n_removed": int(removed.shape[0])})
        _send_sorted(s, NS_TABLE_ADDED, added)
        _send_sorted(s, NS_TABLE_REMOVED, removed)

    n_client = int(hello["n"])
    back = s.ctx.sub(NS_EVALUATED)
    for i, blinded in enumerate(iter_batches(s.ctx.sub(NS_BLINDED), guest, OPRF_BLINDED, n_client,
                                             width=point_bytes(s.params.suite),
                                             batch_rows=rows)):
        back.sub(str(i)).send(guest, OPRF_EVALUATED, table.key.evaluate(blinded, executor=ex))
        s.tick("evaluate client elements", min(n_client, (i + 1) * rows), n_client)
    return s.deliver_as_host(guest, order)


def _send_sorted(s: Session, stream: str, values: npt.NDArray[np.uint8]) -> None:
    send_batches(s.ctx.sub(stream), s.ctx.guest, OPRF_TABLE,
                 values[sorted_rows(values)] if values.shape[0] else values,
                 batch_rows=s.params.batch_rows)
