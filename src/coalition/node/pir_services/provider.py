"""The provider's side of PIR services: the handlers of :data:`PIR_SERVICE_INFO` and
:data:`PIR_EXCHANGE`, the batch sessions, and the quota charged from this node's own records.

Every trust decision is made here, from this node's records, before any OPRF evaluation:

* the calling partner needs an approved, unexpired ``pir`` grant for the service's dataset
  (:func:`coalition.node.partners.grants.check_grant`), and the grant's terms must allow the
  mode (``variants``: ``pir`` or ``pir:<mode>``, when the grant restricts variants);
* the mode must be one the service publishes, asked on the opening call and checked again on
  the protocol's hello (:class:`~coalition.protocols.pir.ServerControls` ``modes``);
* the columns asked must be published ones (the table holds no other column anyway);
* the quota is charged for the padded batch size the hello announces, against the partner's
  quota and, where one is set, the quota of the consumer's API key, in the service's current
  epoch (:class:`~.tables.PirUsageRow`, in the database: a restart keeps counting); a batch
  that sends more blinded elements than it announced is refused by the protocol
  (``protocol.violation``) before any is evaluated.

What a partner learns: the service's table ID, modes, columns, epoch, version, row count and
manifest key; then, per batch, what the mode reveals (:mod:`coalition.protocols.pir`). This
node learns the partner, the API-key label it sends, the mode and the padded batch size.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.core.context import Context
from coalition.core.errors import AuthError, CoalitionError, InputError
from coalition.core.ids import Party
from coalition.engine.policy import PolicyError, Violation
from coalition.node.jobs import repository as repo
from coalition.node.limits import LimitError
from coalition.node.partners import grants
from coalition.node.peer.registry import PeerRegistry
from coalition.node.pir_services.batches import Batch, record_batch
from coalition.node.pir_services.conversation import NAMESPACE, ServerSession, from_wire, to_wire
from coalition.node.pir_services.peer_methods import (
    PIR_EXCHANGE,
    PIR_SERVICE_INFO,
    ExchangeReply,
    ExchangeRequest,
    ServiceInfo,
    ServiceInfoRequest,
)
from coalition.node.pir_services.services import TABLES, get_service
from coalition.node.pir_services.tables import ALL_KEYS, PirQuotaRow, PirServiceRow, PirUsageRow
from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot
from coalition.protocols.pir import QuotaBook, QuotaExceededError, ServerControls, run_server
from coalition.protocols.pir.spec import ModeRefusedError

__all__ = ["GRANT_KIND", "SESSIONS", "Sessions", "charge", "register"]

_log = logging.getLogger(__name__)
GRANT_KIND = "pir"

SESSION_IDLE_S = 120.0
CALL_WAIT_S = 5.0
MAX_SESSIONS_PER_PARTNER = 4


class Sessions:
    """Open batch sessions, by id; each bound to the partner that opened it."""

    def __init__(self, rt: NodeRuntime) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, ServerSession] = {}

    def add(self, session: ServerSession) -> None:
        """Hold ``session`` (at most :data:`MAX_SESSIONS_PER_PARTNER` per partner)."""
        with self._lock:
            self._reap()
            if sum(s.partner == session.partner for s in self._open.values()) \
                    >= MAX_SESSIONS_PER_PARTNER:
                raise LimitError("too many PIR batches open at once", partner=session.partner,
                                 limit=MAX_SESSIONS_PER_PARTNER)
            self._open[session.id] = session

    def get(self, session_id: str, partner: str) -> ServerSession:
        """The partner's own session (another partner's id is unknown to it)."""
        with self._lock:
            session = self._open.get(session_id)
        if session is None or session.partner != partner:
            raise InputError("no such PIR session", field="session")
        return session

    def drop(self, session_id: str) -> None:
        """Forget a session."""
        with self._lock:
            session = self._open.pop(session_id, None)
        if session is not None:
            session.close()

    def _reap(self) -> None:
        idle = time.monotonic() - SESSION_IDLE_S
        for sid in [k for k, s in self._open.items() if s.finished or s.last_call < idle]:
            self._open.pop(sid).close()

    def close(self) -> None:
        """End every session."""
        with self._lock:
            sessions, self._open = list(self._open.values()), {}
        for session in sessions:
            session.close()


SESSIONS: Slot[Sessions] = Slot("pir_services.sessions", Sessions, close=Sessions.close)


# -- quota ------------------------------------------------------------------------------------
def _limit(db: Session, service: PirServiceRow, partner: str, key: str) -> int | None:
    row = db.scalars(select(PirQuotaRow).where(
        PirQuotaRow.service_id == service.id, PirQuotaRow.partner == partner,
        PirQuotaRow.api_key == key)).first()
    if row is not None:
        return row.max_queries
    return service.quota_per_partner if key == ALL_KEYS else None


def charge(db: Session, service_id: str, *, partner: str, api_key: str, epoch: str,
           count: int) -> None:
    """Charge ``count`` queries to ``partner`` (and its ``api_key``) in ``epoch``, or raise
    :class:`QuotaExceededError` charging nothing. Runs in the caller's transaction."""
    service = db.get(PirServiceRow, service_id)
    if service is None:
        raise InputError("no such PIR service", field="service")
    used_by_partner = int(db.scalar(select(func.coalesce(func.sum(PirUsageRow.used), 0)).where(
        PirUsageRow.service_id == service_id, PirUsageRow.partner == partner,
        PirUsageRow.epoch == epoch)) or 0)
    row = db.scalars(select(PirUsageRow).where(
        PirUsageRow.service_id == service_id, PirUsageRow.partner == partner,
        PirUsageRow.api_key == api_key, PirUsageRow.epoch == epoch)).first()
    used_by_key = row.used if row is not None else 0
    for subject, used, limit in (
            (f"partner {partner}", used_by_partner, _limit(db, service, partner, ALL_KEYS)),
            (f"API key {api_key}", used_by_key,
             _limit(db, service, partner, api_key) if api_key != ALL_KEYS else None)):
        if limit is not None and used + count > limit:
            raise QuotaExceededError(
                f"PIR query quota exceeded for {subject}: {count} queries asked, "
                f"{max(0, limit - used)} of {limit} left in this epoch",
                limit=limit, used=used, requested=count)
    if row is None:
        db.add(PirUsageRow(service_id=service_id, partner=partner, api_key=api_key,
                           epoch=epoch, used=count))
    else:
        row.used = used_by_key + count


class _NodeQuota(QuotaBook):
    """The protocol's quota hook, charging this node's database (see :func:`charge`)."""

    def __init__(self, rt: NodeRuntime, service_id: str, partner: str, api_key: str) -> None:
        super().__init__(None)
        self._rt, self._service, self._partner, self._key = rt, service_id, partner, api_key

    def used(self, client: str, epoch: str) -> int:
        return int(repo.read(self._rt, lambda db: db.scalar(
            select(func.coalesce(func.sum(PirUsageRow.used), 0)).where(
                PirUsageRow.service_id == self._service, PirUsageRow.partner == self._partner,
                PirUsageRow.epoch == epoch))) or 0)

    def charge(self, client: str, epoch: str, count: int) -> None:
        repo.write(self._rt, lambda db: charge(db, self._service, partner=self._partner,
                                               api_key=self._key, epoch=epoch, count=count))


# -- admission ----------------------------------------------------------------------------------
def _admit(db: Session, caller: str, ref: str, mode: str | None) -> PirServiceRow:
    """The service, if ``caller`` may query it (in ``mode``); raises otherwise."""
    service = get_service(db, ref)
    grant = grants.check_grant(db, caller, service.dataset, GRANT_KIND)
    if mode is not None:
        if mode not in service.modes:
            raise ModeRefusedError("this service is not answered in the mode asked", mode=mode)
        variants = grants.grant_terms(grant).variants
        if variants is not None and GRANT_KIND not in variants \
                and f"{GRANT_KIND}:{mode}" not in variants:
            raise PolicyError([Violation("pir.mode", service.name,
                                         "the grant does not allow this PIR mode")])
    return service


def _info(rt: NodeRuntime, caller: str, req: ServiceInfoRequest) -> ServiceInfo:
    def read(db: Session) -> ServiceInfo:
        service = _admit(db, caller, req.service, None)
        table = rt.state(TABLES).get(service.id)
        return ServiceInfo(service=service.name, table_id=table.settings.table_id,
                           modes=list(service.modes), columns=list(service.columns),
                           epoch=table.epoch, version=table.version, rows=len(table),
                           verify_key=bytes(table.verify_key.to_bytes()).hex())

    return repo.read(rt, read)


def _refusal_batch(service: str, caller: str, api_key: str, mode: str,
                   exc: CoalitionError) -> Batch:
    return Batch(side="provider", service=service, partner=caller, api_key=api_key,
                 actor=f"partner:{caller}", mode=mode, state="refused", code=exc.code)


def _serve(rt: NodeRuntime, service: dict[str, Any], caller: str, api_key: str,
           mode: str) -> Any:
    def run(session: ServerSession) -> None:
        table = rt.state(TABLES).get(service["id"])
        controls = ServerControls(quota=_NodeQuota(rt, service["id"], caller, api_key),
                                  modes=frozenset(service["modes"]))
        ctx = Context(session, namespace=NAMESPACE, timeout=SESSION_IDLE_S)
        base = Batch(side="provider", service=service["name"], partner=caller,
                     api_key=api_key, actor=f"partner:{caller}", mode=mode, state="",
                     epoch=table.epoch, version=table.version)
        try:
            summary = run_server(ctx, table, controls=controls)
        except (QuotaExceededError, ModeRefusedError) as exc:
            record_batch(rt, replace(base, state="refused", code=exc.code))
            raise
        except CoalitionError as exc:
            record_batch(rt, replace(base, state="failed", code=exc.code))
            raise
        except Exception:
            _log.exception("PIR batch for %s failed", caller)
            record_batch(rt, replace(base, state="failed", code="internal"))
            raise
        record_batch(rt, replace(base, mode=summary.mode, state="ok", padded=summary.padded,
                                 seconds=summary.seconds, bytes_sent=summary.bytes_sent,
                                 bytes_received=summary.bytes_received))

    return run


def _exchange(rt: NodeRuntime, caller: str, req: ExchangeRequest) -> ExchangeReply:
    sessions = rt.state(SESSIONS)
    frames = from_wire(req.frames)
    if req.session:
        session = sessions.get(req.session, caller)
    else:
        api_key = req.api_key or ALL_KEYS
        mode = req.mode or "download"

        def admit(db: Session) -> dict[str, Any]:
            service = _admit(db, caller, req.service, mode)
            if set(req.columns) - set(service.columns):
                raise InputError("the service does not publish every column asked",
                                 field="columns")
            return {"id": service.id, "name": service.name, "modes": list(service.modes)}

        try:
            service = repo.read(rt, admit)
        except (AuthError, ModeRefusedError, PolicyError, InputError) as exc:
            record_batch(rt, _refusal_batch(req.service[:64], caller, api_key[:128],
                                            mode[:16], exc))
            raise
        session = ServerSession(secrets.token_hex(16), caller, Party.host(rt.name),
                                Party.guest(caller), _serve(rt, service, caller, api_key, mode))
        sessions.add(session)
        session.start()
    try:
        out, more, done = session.exchange(frames, CALL_WAIT_S)
    except CoalitionError:
        sessions.drop(session.id)
        raise
    if done:
        sessions.drop(session.id)
    return ExchangeReply(session=session.id, frames=to_wire(out), more=more, done=done)


def register(registry: PeerRegistry) -> None:
    """Bind the PIR service peer methods."""
    registry.register(PIR_SERVICE_INFO, _info)
    registry.register(PIR_EXCHANGE, _exchange)
