"""Node-local events mirrored into the federation log this node operates (issue 22).

* ``node.admin`` — administrative changes of this node (users and roles, API keys, partners,
  policies, audit-trail and ledger-alert decisions): the audit event's kind, sequence number
  and chain hash (:mod:`coalition.node.audit.trail`). The hash commits to who did what to
  which object without showing partners the names; the node can open it in a dispute, and a
  rewritten local audit trail no longer matches the co-signed log.
* ``pir.run`` and ``verify3.run`` — each PIR or three-factor-verification batch this node
  served or queried: the side, the element and result counts and the audit hash, never an ID
  or a queried value (the audit events themselves hold counts only).

:func:`pending` runs when this node signs a new head
(:func:`coalition.node.ledger.service.sync`), so the entries are witnessed like every other; it resumes after the last audit sequence number
already mirrored.
"""

from __future__ import annotations

from typing import Any

from coalition.crypto.suite import CryptoSuite
from coalition.node.audit.events import EventKind
from coalition.node.audit.tables import AuditEvent
from coalition.node.audit.trail import iter_events
from coalition.node.ledger import store
from coalition.node.runtime import NodeRuntime

__all__ = ["ADMIN_EVENTS", "BATCH_EVENTS", "pending"]

ADMIN_EVENTS = frozenset({
    EventKind.USER_CREATED, EventKind.USER_UPDATED, EventKind.PASSWORD_CHANGED,
    EventKind.SESSIONS_REVOKED, EventKind.API_KEY_CREATED, EventKind.API_KEY_REVOKED,
    EventKind.PARTNER_REGISTERED, EventKind.PARTNER_REMOVED, EventKind.POLICY_CREATED,
    EventKind.POLICY_REMOVED, EventKind.AUDITOR_CHANGE_APPROVED, EventKind.AUDIT_ACCEPTED,
    EventKind.AUDIT_REANCHORED, EventKind.LEDGER_ALERT_ACKNOWLEDGED,
})
BATCH_EVENTS = {EventKind.PIR_BATCH: "pir.run", EventKind.VERIFY3_BATCH: "verify3.run"}
_MIRRORED = frozenset({"node.admin", *BATCH_EVENTS.values()})
# only these count fields of a batch event reach the log (never an ID or a value)
_COUNTS = ("elements", "triples", "queries", "padded", "found")


def _body(event: AuditEvent) -> tuple[str, dict[str, Any]] | None:
    body: dict[str, Any] = {"event": event.kind, "audit_seq": event.seq,
                            "audit_sha256": event.hash}
    if event.kind in ADMIN_EVENTS:
        return "node.admin", body
    kind = BATCH_EVENTS.get(EventKind(event.kind)) if event.kind in BATCH_EVENTS else None
    if kind is None:
        return None
    details = event.details if isinstance(event.details, dict) else {}
    side = details.get("side")
    counts = {k: v for k in _COUNTS
              if isinstance(v := details.get(k), int) and not isinstance(v, bool)}
    mode, state = details.get("mode"), details.get("state")
    return kind, {**body, "side": side if isinstance(side, str) else None,
                  "mode": mode if isinstance(mode, str) else None,
                  "state": state if isinstance(state, str) else None, "counts": counts}


def _last_mirrored(rt: NodeRuntime) -> int:
    with rt.db.session() as db:  # in any of its logs: a suite switch starts a log, not history
        seqs = [r.body.get("audit_seq", 0) for suite in CryptoSuite
                for r in store.entries(db, store.origin_of(rt.name, suite))
                if r.kind in _MIRRORED and r.producer == rt.name]
    return max((s for s in seqs if isinstance(s, int)), default=0)


def pending(rt: NodeRuntime) -> list[tuple[str, dict[str, Any]]]:
    """``(kind, body)`` of every mirrored audit event after the last one already in this
    node's own log, oldest first (the caller signs and appends them)."""
    after = _last_mirrored(rt)
    with rt.db.session() as db:
        return [b for e in iter_events(db, after) if (b := _body(e)) is not None]
