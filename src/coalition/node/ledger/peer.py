"""The ledger's peer handlers (registered by :mod:`coalition.node.composition`)."""

from __future__ import annotations

from coalition.node.ledger.peer_methods import LEDGER_COSIGN, LEDGER_PULL
from coalition.node.ledger.service import cosign, pull
from coalition.node.peer.registry import PeerRegistry

__all__ = ["register"]


def register(registry: PeerRegistry) -> None:
    """Answer ``LedgerPull`` and ``LedgerCosign``."""
    registry.register(LEDGER_PULL, pull)
    registry.register(LEDGER_COSIGN, cosign)
