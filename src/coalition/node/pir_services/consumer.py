"""The consumer's side of PIR services: look up IDs in a partner's published service.

:func:`query` asks the partner for the service's description (:data:`PIR_SERVICE_INFO`, over
the mTLS peer channel, so the manifest key it pins comes authenticated by the partner's
certificate), then runs the keyword-PIR client role over :data:`PIR_EXCHANGE` calls. Answers
come back in query order with the columns asked. A download-mode copy of the partner's table
is kept in ``home/pir/cache``, so the next batch in the same epoch fetches only the delta.

What the partner learns is what the mode reveals (``download``: the padded batch size only;
``bucketed``: one bucket per padded query; ``ot_decoys``: each ID among ``decoys - 1``
decoys) plus the API-key label sent for its per-key quota (the key's id, never its secret).
The batch is recorded here with its counts, never its IDs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from coalition.core.context import Context
from coalition.core.errors import CoalitionError, InputError
from coalition.core.ids import Party
from coalition.crypto.signing import VerifyKey
from coalition.node.pir_services.batches import Batch, record_batch
from coalition.node.pir_services.conversation import (
    NAMESPACE,
    ConsumerChannel,
    Frame,
    from_wire,
    to_wire,
)
from coalition.node.pir_services.peer_methods import (
    PIR_EXCHANGE,
    PIR_SERVICE_INFO,
    ExchangeRequest,
    ServiceInfo,
    ServiceInfoRequest,
)
from coalition.node.runtime import NodeRuntime
from coalition.protocols.pir import PirMode, PirResult, run_client
from coalition.protocols.psi.oprf.cache import ClientTableCache

__all__ = ["MAX_IDS", "describe", "query"]

MAX_IDS = 100_000
CALL_TIMEOUT_S = 60.0
BATCH_TIMEOUT_S = 600.0


def describe(rt: NodeRuntime, partner: str, service: str) -> ServiceInfo:
    """The partner's description of its service (needs the partner's ``pir`` grant)."""
    return rt.peers.call(partner, PIR_SERVICE_INFO, ServiceInfoRequest(service=service))


def _frame(result: PirResult, columns: Sequence[str]) -> pd.DataFrame:
    frame = result.to_frame()
    return frame[["id", "found", *columns]]


def query(rt: NodeRuntime, actor: str, api_key: str, *, partner: str, service: str,
          ids: Sequence[Any], mode: str | None = None, columns: Sequence[str] = (),
          decoys: int | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Look up ``ids`` (one or a batch, order kept) in ``partner``'s ``service``; returns the
    answers (``id``, ``found``, then the columns) and this node's batch record."""
    if not 0 < len(ids) <= MAX_IDS:
        raise InputError(f"a batch has 1 to {MAX_IDS} IDs", field="ids")
    info = describe(rt, partner, service)
    wanted = list(columns) or list(info.columns)
    if set(wanted) - set(info.columns):
        raise InputError("the service does not publish every column asked", field="columns",
                         published=list(info.columns))
    chosen = mode or info.modes[0]
    if chosen not in {m.value for m in PirMode}:
        raise InputError("unknown PIR mode", field="mode")
    params: dict[str, Any] = {"mode": chosen}
    if decoys is not None:
        params["decoys"] = decoys
    opening = {"service": service, "mode": chosen, "api_key": api_key, "columns": wanted}
    session = {"id": ""}

    def call(frames: list[Frame]) -> tuple[list[Frame], bool]:
        fields = opening if not session["id"] else {"service": service}
        reply = rt.peers.call(partner, PIR_EXCHANGE,
                              ExchangeRequest(**fields, session=session["id"],
                                              frames=to_wire(frames)),
                              timeout_s=CALL_TIMEOUT_S)
        session["id"] = reply.session
        got = from_wire(reply.frames)
        if not got and not reply.done:
            time.sleep(0.01)  # the provider is still working: poll gently
        return got, reply.done

    channel = ConsumerChannel(Party.guest(rt.name), Party.host(partner), call)
    ctx = Context(channel, namespace=NAMESPACE, timeout=BATCH_TIMEOUT_S)
    cache = ClientTableCache(Path(rt.settings.home) / "pir" / "cache")
    base = Batch(side="consumer", service=service, partner=partner, api_key=api_key,
                 actor=actor, mode=chosen, state="", queries=len(ids))
    started = time.perf_counter()
    try:
        result = run_client(ctx, list(ids), server_key=VerifyKey(bytes.fromhex(info.verify_key)),
                            params=params, table_id=info.table_id, cache=cache)
    except CoalitionError as exc:
        state = "refused" if exc.http_status in (403, 429) else "failed"
        record_batch(rt, replace(base, state=state, code=exc.code, epoch=info.epoch,
                                 seconds=round(time.perf_counter() - started, 4)))
        raise
    s = result.summary
    record = record_batch(rt, replace(
        base, state="ok", epoch=s.epoch, version=s.version, padded=s.padded, found=s.found,
        seconds=round(time.perf_counter() - started, 4), bytes_sent=s.bytes_sent,
        bytes_received=s.bytes_received))
    return _frame(result, wanted), record
