"""Opening the audit seal at node start, re-anchoring an old unkeyed chain, checking the trail.

Decision (documented in ``docs/security.md``): by default a node whose trail fails verification
at start **refuses to start** (``audit_on_tamper: refuse``), because a node that keeps running on
a rewritten trail hides the rewrite; ``alert`` keeps it running and records an
``audit.tamper_detected`` entry (and logs an error) on every start until an operator acts.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from coalition.core.errors import CoalitionError, ConfigError
from coalition.crypto.suite import digest_alg
from coalition.node.audit import trail as audit
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.audit.seal import AuditSeal, create_mac_key, read_mac_key
from coalition.node.db.engine import Database
from coalition.node.settings import NodeSettings
from coalition.node.signing import former_verify_keys, signing_key

__all__ = ["AuditTrailBroken", "check_at_start", "open_seal"]

log = logging.getLogger("coalition.node.audit")


class AuditTrailBroken(CoalitionError):
    """The audit trail failed verification (edited, forged, truncated or re-chained)."""

    code: ClassVar[str] = "audit.broken"
    http_status: ClassVar[int] = 500


def open_seal(settings: NodeSettings, *, create: bool = True) -> AuditSeal:
    """Load the MAC key and the signer (Ed25519, or SM2 under ``crypto_suite: sm``, whose
    entries are then chained with SM3 and HMAC-SM3); create the MAC key once for a node that
    has none.

    A missing key next to an existing checkpoint means the key was lost or removed: refused,
    since a new key would silently re-seal whatever is in the database.
    """
    path, cp_path = settings.audit_key_path, settings.audit_checkpoint_path
    if path.exists() or not create:
        key = read_mac_key(path)
    elif cp_path.exists():
        raise ConfigError("audit key file missing although the trail was sealed", path=str(path))
    else:
        key = create_mac_key(path)
    return AuditSeal(mac_key=key, signer=signing_key(settings), checkpoint_path=cp_path,
                     node=settings.name, every=settings.audit_checkpoint_every,
                     algorithm=digest_alg(settings.crypto_suite),
                     former_keys=former_verify_keys(settings))


def check_at_start(db: Database, seal: AuditSeal, settings: NodeSettings) -> audit.VerifyResult:
    """Verify the trail; re-anchor a pre-key chain once; sign a start checkpoint when intact."""
    with db.session() as session:
        result = audit.verify(session, seal)
    upgrade = (not result.ok and result.stage == "checkpoint" and result.checkpoint is None
               and result.legacy == result.checked > 0
               and not settings.audit_checkpoint_path.exists())
    if upgrade:
        with db.session() as session:
            emit(session, Event(EventKind.AUDIT_REANCHORED, "system", f"node:{settings.name}", {
                "legacy_entries": result.legacy, "legacy_head": result.head,
                "note": "entries before this one were chained without a key"}))
        with db.session() as session:
            result = audit.verify(session, seal)
    if not result.ok:
        log.error("audit trail BROKEN at entry %s: %s", result.first_bad, result.reason)
        if settings.audit_on_tamper == "refuse":
            raise AuditTrailBroken("audit trail failed verification; run `coalition audit verify`",
                                   first_bad=result.first_bad, reason=result.reason)
        seal.frozen = True  # new checkpoints over a broken trail would erase truncation evidence
        with db.session() as session:
            emit(session, Event(EventKind.AUDIT_TAMPER_DETECTED, "system", f"node:{settings.name}",
                                {"first_bad": result.first_bad, "reason": result.reason}))
        return result
    if result.checked:
        seal.checkpoint(result.checked, result.head)
    return result
