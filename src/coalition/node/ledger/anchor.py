"""Anchors: push a *final* (quorum co-signed) checkpoint to a place outside the federation.

An anchor adds an external witness to the log: once a checkpoint is anchored, even a quorum of
colluding partners cannot rewrite the history up to it without also rewriting the anchor. The
interface is :class:`Anchor`: ``publish`` returns an :class:`AnchorReceipt`, ``verify`` raises
:class:`~coalition.core.errors.CryptoError` unless the receipt proves the checkpoint was anchored.

Shipped: :class:`FileAnchor` (an append-only JSON-lines file, e.g. on WORM storage or a share the
auditors read). A blockchain anchor (FISCO BCOS, Hyperledger Fabric) plugs in the same way and is
not a dependency: ``publish`` submits a transaction to a contract (or chaincode) that stores
``(origin, size, root, cosignatures)`` and returns ``{"tx": hash, "block": number}`` as the
receipt's ``locator``; ``verify`` reads the transaction back through the chain's SDK and compares
the stored checkpoint body. See ``docs/ledger.md``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from coalition.core.errors import CryptoError
from coalition.crypto.checkpoint import Checkpoint

__all__ = ["Anchor", "AnchorReceipt", "FileAnchor"]


@dataclass(frozen=True, slots=True)
class AnchorReceipt:
    """Where a checkpoint was anchored: the anchor's name and an anchor-specific locator."""

    anchor: str
    locator: Mapping[str, Any] = field(default_factory=dict)


class Anchor(Protocol):
    """An external place final checkpoints are pushed to."""

    name: str

    def publish(self, checkpoint: Checkpoint, cosignatures: Mapping[str, bytes]) -> AnchorReceipt:
        """Anchor ``checkpoint`` with its co-signatures; return how to find it again."""
        ...

    def verify(self, checkpoint: Checkpoint, receipt: AnchorReceipt) -> None:
        """Raise :class:`CryptoError` unless ``receipt`` shows ``checkpoint`` was anchored."""
        ...


def _record(checkpoint: Checkpoint, cosignatures: Mapping[str, bytes]) -> str:
    cosigs = {k: base64.b64encode(v).decode("ascii") for k, v in sorted(cosignatures.items())}
    body = checkpoint.body().decode("utf-8")
    return json.dumps({"checkpoint": body, "cosignatures": cosigs}, sort_keys=True)


class FileAnchor:
    """Anchor to an append-only JSON-lines file; the receipt is the line number and its SHA-256.

    Each publish appends one line and ``fsync``s it. ``verify`` re-reads that line, so a file
    rewritten after the fact (or a receipt for another checkpoint) fails.
    """

    name = "file"

    def __init__(self, path: Path) -> None:
        self._path = path

    def publish(self, checkpoint: Checkpoint, cosignatures: Mapping[str, bytes]) -> AnchorReceipt:
        """Append ``checkpoint`` (and its co-signatures) as one line."""
        line = _record(checkpoint, cosignatures)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a+", encoding="utf-8") as fh:
            fh.seek(0)
            index = sum(1 for _ in fh)
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        digest = hashlib.sha256(line.encode()).hexdigest()
        return AnchorReceipt(self.name, {"line": index, "sha256": digest})

    def verify(self, checkpoint: Checkpoint, receipt: AnchorReceipt) -> None:
        """Re-read the receipt's line and check it holds ``checkpoint``."""
        try:
            index = int(receipt.locator["line"])
            digest = str(receipt.locator["sha256"])
            with self._path.open(encoding="utf-8") as fh:
                lines = fh.read().splitlines()
            line = lines[index]
            stored = Checkpoint.from_body(json.loads(line)["checkpoint"].encode())
        except (KeyError, ValueError, IndexError, OSError, TypeError) as exc:
            raise CryptoError("anchor receipt does not resolve") from exc
        if receipt.anchor != self.name or hashlib.sha256(line.encode()).hexdigest() != digest:
            raise CryptoError("anchored record changed since it was published")
        if stored != checkpoint:
            raise CryptoError("anchor holds another checkpoint")
