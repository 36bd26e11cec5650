"""Keyword PIR, server (data provider) role: answers one client batch per call, in the mode
the client's hello names, after the quota check and before the batch log.

Protocol and leakage per mode: :mod:`.oprf.server` (``download``, ``bucketed``; the default)
and :mod:`.ot_decoys.server` (``ot_decoys``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from coalition.core.context import Context
from coalition.core.ids import Party
from coalition.protocols.pir.oprf import server as oprf_server
from coalition.protocols.pir.ot_decoys import server as ot_decoys_server
from coalition.protocols.pir.quota import ServerControls
from coalition.protocols.pir.session import Hello, send_refusal
from coalition.protocols.pir.spec import ModeRefusedError, PirMode, QuotaExceededError
from coalition.protocols.pir.table import PirTable
from coalition.protocols.psi.session import Progress
from coalition.protocols.psi.wire import metered

__all__ = ["ServeSummary", "run_server"]


@dataclass
class ServeSummary:
    """One answered batch, as the server saw it (sizes and timings, no content)."""

    client: str
    mode: str
    padded: int
    epoch: str
    version: int
    table_transfer: str
    online_s: float
    seconds: float
    bytes_sent: int
    bytes_received: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


Handler = Callable[[Context, Party, PirTable, Hello, "Progress | None"], dict[str, Any]]


def run_server(ctx: Context, table: PirTable, *, controls: ServerControls | None = None,
               progress: Progress | None = None) -> ServeSummary:
    """Answer one batch from ``ctx.guest`` (see module docstring). A refused batch raises
    :class:`~.spec.QuotaExceededError` after telling the client."""
    started = time.perf_counter()
    inner, meter = metered(ctx, "pir")
    client, controls = inner.guest, controls or ServerControls()
    hello = Hello.recv(inner, client)
    if controls.modes is not None and hello.mode.value not in controls.modes:
        refusal = ModeRefusedError("this table is not served in the mode asked",
                                   mode=hello.mode.value)
        send_refusal(inner, client, refusal)
        raise refusal
    try:
        controls.quota.charge(str(client), table.epoch, hello.n)
    except QuotaExceededError as exc:
        send_refusal(inner, client, exc)
        raise
    info = _HANDLERS[hello.mode](inner, client, table, hello, progress)
    controls.log.log(client=str(client), mode=hello.mode.value, size=hello.n,
                     table_id=table.settings.table_id, epoch=table.epoch, version=table.version)
    return ServeSummary(client=str(client), mode=hello.mode.value, padded=hello.n,
                        epoch=table.epoch, version=table.version,
                        table_transfer=str(info.pop("table_transfer", "none")),
                        online_s=round(float(info.pop("online_s")), 6),
                        seconds=round(time.perf_counter() - started, 4),
                        bytes_sent=meter.bytes_sent, bytes_received=meter.bytes_received,
                        extra=info)


_HANDLERS: dict[PirMode, Handler] = {
    PirMode.DOWNLOAD: oprf_server.serve_download,
    PirMode.BUCKETED: oprf_server.serve_bucketed,
    PirMode.OT_DECOYS: ot_decoys_server.serve_ot_decoys,
}
