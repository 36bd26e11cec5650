"""The federation ledger feature (issue 22): signed entries, anchors for final checkpoints.

The Merkle log and witness logic live in :mod:`coalition.crypto.merkle` and
:mod:`coalition.crypto.checkpoint`; this package holds what touches the outside world.
"""

from coalition.node.ledger.anchor import Anchor, AnchorReceipt, FileAnchor
from coalition.node.ledger.entries import KINDS, Entry, audit, canonical_json, sign_entry

__all__ = [
    "KINDS",
    "Anchor",
    "AnchorReceipt",
    "Entry",
    "FileAnchor",
    "audit",
    "canonical_json",
    "sign_entry",
]
