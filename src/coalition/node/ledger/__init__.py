"""The federation ledger feature (issue 22): anchors for final checkpoints.

The Merkle log and witness logic live in :mod:`coalition.crypto.merkle` and
:mod:`coalition.crypto.checkpoint`; this package holds what touches the outside world.
"""

from coalition.node.ledger.anchor import Anchor, AnchorReceipt, FileAnchor

__all__ = ["Anchor", "AnchorReceipt", "FileAnchor"]
