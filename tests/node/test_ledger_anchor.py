"""The file anchor: publish, verify, and detect a rewritten anchor file."""

from __future__ import annotations

from pathlib import Path

import pytest

from coalition.core.errors import CryptoError
from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint
from coalition.node.ledger import FileAnchor


def _cp(n: int) -> Checkpoint:
    return Checkpoint("fed", n, merkle.root_hash([merkle.leaf_hash(b"%d" % i) for i in range(n)]))


def test_file_anchor_round_trip_and_tamper(tmp_path: Path) -> None:
    anchor = FileAnchor(tmp_path / "anchors" / "log.jsonl")
    r1 = anchor.publish(_cp(3), {"bank": b"s" * 64})
    r2 = anchor.publish(_cp(5), {})
    assert (r1.locator["line"], r2.locator["line"]) == (0, 1)
    anchor.verify(_cp(3), r1)
    anchor.verify(_cp(5), r2)
    with pytest.raises(CryptoError):
        anchor.verify(_cp(5), r1)
    path = tmp_path / "anchors" / "log.jsonl"
    lines = path.read_text().splitlines()
    path.write_text(lines[1].replace('"5', '"6') + "\n" + lines[1] + "\n")
    with pytest.raises(CryptoError):
        anchor.verify(_cp(3), r1)
    path.write_text("")
    with pytest.raises(CryptoError):
        anchor.verify(_cp(5), r2)
