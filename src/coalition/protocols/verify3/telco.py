"""Private three-element verification, telco (server) side: answer one bank batch from a
:class:`~.table.VerificationTable`, after the quota check and before the batch log.

Protocol and leakage: the package docstring. The telco sees the bank's identity, the suite and
the padded number of elements; it charges that number against the bank's quota for the
table's epoch before evaluating anything, and logs the batch by count only.
"""

from __future__ import annotations

import time
from typing import Any

from coalition.core.context import Context
from coalition.core.errors import ProtocolError
from coalition.protocols.pir.quota import ServerControls
from coalition.protocols.pir.spec import QuotaExceededError
from coalition.protocols.psi.wire import metered, recv_batches, send_batches
from coalition.protocols.verify3.spec import (
    ELEMENTS_PER_TRIPLE,
    MAX_ELEMENTS,
    V3_BLINDED,
    V3_EVALUATED,
    V3_HELLO,
    V3_MANIFEST,
    V3_TABLE,
)
from coalition.protocols.verify3.table import VerificationTable

__all__ = ["check_batch", "run_telco"]


def check_batch(n: int) -> None:
    """A padded element count a bank may announce (:class:`ProtocolError` otherwise)."""
    if not 0 < n <= MAX_ELEMENTS or n % ELEMENTS_PER_TRIPLE:
        raise ProtocolError("verification batch size out of range", n=n)


def run_telco(ctx: Context, table: VerificationTable, *, table_id: str = "verify3",
              controls: ServerControls | None = None) -> dict[str, Any]:
    """Answer one batch from ``ctx.guest`` (the bank). A refused batch raises
    :class:`~coalition.protocols.pir.spec.QuotaExceededError` after telling the bank."""
    started = time.perf_counter()
    inner, meter = metered(ctx, "verify3")
    bank, controls = inner.guest, controls or ServerControls()
    raw = inner.recv(bank, V3_HELLO)
    try:
        suite, n, rows = str(raw["suite"]), int(raw["n"]), int(raw["batch_rows"])
        cached = raw["cached"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("malformed verification hello", peer=str(bank)) from exc
    check_batch(n)
    if not 256 <= rows <= 1 << 22:
        raise ProtocolError("verification hello out of range", peer=str(bank))
    if suite != table.suite.value:
        inner.send(bank, V3_MANIFEST, {"status": "refused", "code": "protocol.violation",
                                       "message": "crypto suite differs", "details": {}})
        raise ProtocolError("the bank runs another crypto suite", peer=str(bank), theirs=suite)
    try:
        controls.quota.charge(str(bank), table.epoch, n)
    except QuotaExceededError as exc:
        details = {k: v for k, v in exc.details.items() if isinstance(v, int | str)}
        inner.send(bank, V3_MANIFEST, {"status": "refused", "code": exc.code,
                                       "message": exc.message, "details": details})
        raise
    manifest = table.manifest
    send_table = cached != manifest.digest
    inner.send(bank, V3_MANIFEST, {"status": "ok", "manifest": manifest.to_wire(),
                                   "table": "full" if send_table else "cached"})
    if send_table:
        send_batches(inner.sub("table"), bank, V3_TABLE, table.tags, batch_rows=rows)
    blinded = recv_batches(inner.sub("blinded"), bank, V3_BLINDED, n,
                           width=table.element_bytes, batch_rows=rows)
    t0 = time.perf_counter()
    evaluated = table.evaluate(blinded, inner.executor)
    online = time.perf_counter() - t0
    send_batches(inner.sub("evaluated"), bank, V3_EVALUATED, evaluated, batch_rows=rows)
    controls.log.log(client=str(bank), mode="verify3", size=n, table_id=table_id,
                     epoch=table.epoch, version=0)
    return {"bank": str(bank), "padded_elements": n, "table": "full" if send_table else "cached",
            "online_s": round(online, 6), "seconds": round(time.perf_counter() - started, 4),
            "bytes_sent": meter.bytes_sent, "bytes_received": meter.bytes_received}

