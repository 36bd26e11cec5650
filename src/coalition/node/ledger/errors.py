"""Typed errors of the federation log."""

from __future__ import annotations

from coalition.core.errors import ConflictError, CryptoError

__all__ = ["LedgerAlertOpen", "LedgerTampered"]


class LedgerTampered(CryptoError):
    """A stored or presented log does not match a head signed for it (an entry modified,
    deleted or inserted, a bad entry signature, or a producer key that changed)."""

    code = "ledger.tampered"
    http_status = 409


class LedgerAlertOpen(ConflictError):
    """The node holds an unacknowledged ledger alert about an organisation of the job."""

    code = "ledger.alert_open"
