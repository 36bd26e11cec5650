"""Typed, frozen state-change events and the one function that records them.

Every state change on a node (login, user/role change, API key, partner, dataset, grant,
approval, job) calls :func:`emit` in the same database transaction as the change,
so the change and its audit entry commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from coalition.node.audit import trail as audit

__all__ = ["Event", "EventKind", "emit"]


class EventKind(StrEnum):
    """Every kind of audited event; the value is stored and exported."""

    NODE_INITIALISED = "node.initialised"
    LOGIN_SUCCEEDED = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    ACCOUNT_LOCKED = "auth.account_locked"
    LOGOUT = "auth.logout"
    SESSIONS_REVOKED = "auth.sessions_revoked"
    PASSWORD_CHANGED = "user.password_changed"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    PARTNER_REGISTERED = "partner.registered"
    PARTNER_REMOVED = "partner.removed"
    PARTNER_HEALTH_CHECKED = "partner.health_checked"
    DATASET_REGISTERED = "dataset.registered"
    DATASET_REMOVED = "dataset.removed"
    DATASET_SHARED = "dataset.shared"
    DATASET_UNSHARED = "dataset.unshared"
    GRANT_ASKED = "grant.asked"  # this node asked a partner (outgoing)
    GRANT_REQUESTED = "grant.requested"  # a partner asked this node (incoming)
    GRANT_APPROVED = "grant.approved"
    GRANT_REJECTED = "grant.rejected"
    GRANT_REVOKED = "grant.revoked"
    POLICY_CREATED = "policy.created"
    POLICY_REMOVED = "policy.removed"
    MODEL_PUBLISHED = "model.published"
    MODEL_DELETED = "model.deleted"
    MODEL_PROTECTION_CHANGED = "model.protection_changed"
    MODEL_VERIFIED = "model.verified"
    MODEL_TAMPERED = "model.tampered"  # alert: a stored part failed its digest or signature
    ONLINE_SOURCE_REGISTERED = "online_source.registered"
    ONLINE_SOURCE_REMOVED = "online_source.removed"
    SERVICE_DEPLOYED = "service.deployed"
    SERVICE_UNDEPLOYED = "service.undeployed"
    PREDICTIONS_WRITTEN = "predictions.written"  # offline inference made a derived dataset
    SERVICE_QUERY_VOLUME = "service.query_volume"  # aggregate counts per key/partner per window
    SERVICE_QUERY_REFUSED = "service.query_refused"  # first quota/rate refusal in a window
    JOB_SUBMITTED = "job.submitted"  # a user submitted a job here (this node initiates)
    JOB_PROPOSED = "job.proposed"  # an initiator proposed a job to this node
    JOB_DECIDED = "job.decided"  # an organisation accepted, rejected or queued a job
    JOB_STATE_CHANGED = "job.state_changed"
    TASK_STATE_CHANGED = "job.task_state_changed"
    JOB_CANCEL_REQUESTED = "job.cancel_requested"
    PSI_TASK_CREATED = "psi.task_created"
    PSI_RUN_STARTED = "psi.run_started"
    PSI_RUN_FINALISED = "psi.run_finalised"  # sizes, protocol, wall time, result hash
    PSI_RESULT_DOWNLOADED = "psi.result_downloaded"  # who, which run, format, row count
    PSI_SCHEDULE_CHANGED = "psi.schedule_changed"  # a cron schedule added or removed
    VERIFY3_PUBLISHED = "verify3.published"  # a verification table built (new epoch)
    VERIFY3_WITHDRAWN = "verify3.withdrawn"  # a service withdrawn: its tags and key deleted
    VERIFY3_BATCH = "verify3.batch"  # one batch served or queried: counts only, never content
    VERIFY3_REFUSED = "verify3.refused"  # a partner's batch refused (grant or quota)
    PIR_SERVICE_PUBLISHED = "pir.service_published"  # dataset, columns, modes, quota, cron
    PIR_SERVICE_REBUILT = "pir.service_rebuilt"  # rows, epoch, version (a new epoch: rotated)
    PIR_SERVICE_WITHDRAWN = "pir.service_withdrawn"  # name, rows, epoch; table deleted
    PIR_SCHEDULE_CHANGED = "pir.schedule_changed"  # a rebuild schedule set or removed
    PIR_QUOTA_SET = "pir.quota_set"  # a partner's or API key's queries per epoch
    PIR_BATCH = "pir.batch"  # one batch, either side: mode, counts, state (never an ID)
    AUDIT_REANCHORED = "audit.reanchored"  # an unkeyed chain was sealed under the new key
    AUDIT_TAMPER_DETECTED = "audit.tamper_detected"  # alert: verification failed at start
    AUDIT_ACCEPTED = "audit.accepted"  # an operator accepted a checkpoint fault and re-signed
    LEDGER_CHECKPOINT = "ledger.checkpoint"  # this node signed or co-signed a tree head
    LEDGER_ALERT = "ledger.alert"  # alert: a partner's log forked, was rewritten or changed key
    LEDGER_ALERT_ACKNOWLEDGED = "ledger.alert_acknowledged"  # an admin lifted a job stop
    AUDITOR_CHANGE_REQUESTED = "user.auditor_change_requested"
    AUDITOR_CHANGE_APPROVED = "user.auditor_change_approved"
    AUDITOR_CHANGE_REJECTED = "user.auditor_change_rejected"


@dataclass(frozen=True)
class Event:
    """One state change: who (``actor``) did what (``kind``) to which object (``subject``).

    ``actor`` is ``user:<name>``, ``partner:<org>`` or ``system``; ``details`` holds plain JSON
    values and never secrets or raw data values.
    """

    kind: EventKind
    actor: str
    subject: str
    details: Mapping[str, Any] = field(default_factory=dict)


def emit(session: Session, event: Event) -> None:
    """Record ``event`` in the audit log inside the caller's transaction."""
    audit.append(session, str(event.kind), event.actor, event.subject, dict(event.details))
