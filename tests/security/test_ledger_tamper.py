"""A database-level attacker on the operator's node edits or deletes a log entry: the audit
against the co-signed checkpoint catches it."""

from __future__ import annotations

import dataclasses

import pytest

from coalition.core.errors import CryptoError, InputError
from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint
from coalition.crypto.signing import SigningKey
from coalition.node.ledger.entries import audit, sign_entry

BANK, TELCO = SigningKey.generate(), SigningKey.generate()
KEYS = {"bank": BANK.verify_key, "telco": TELCO.verify_key}


def _log() -> list:
    return [
        sign_entry(
            "job.dag",
            "bank",
            {"job": "j1", "dag_sha256": "ab" * 32, "parties": ["bank", "telco"]},
            BANK,
        ),
        sign_entry("consent.decision", "telco", {"job": "j1", "decision": "accept"}, TELCO),
        sign_entry("dataset.manifest", "telco", {"schema_sha256": "cd" * 32, "rows": 569}, TELCO),
        sign_entry(
            "contribution.scores",
            "bank",
            {"job": "j1", "scores": {"bank": 0.31, "telco": 0.12}},
            BANK,
        ),
    ]


def _checkpoint(entries: list) -> Checkpoint:
    return Checkpoint("fed", len(entries), merkle.root_hash([e.leaf() for e in entries]))


def test_untouched_log_passes_and_kinds_are_closed() -> None:
    entries = _log()
    audit(entries, _checkpoint(entries), KEYS)
    with pytest.raises(InputError):
        sign_entry("made.up", "bank", {}, BANK)
    with pytest.raises(InputError):
        sign_entry("job.metrics", "bank", {"auc": float("nan")}, BANK)


def test_modified_entry_is_detected_even_when_re_signed() -> None:
    entries = _log()
    cp = _checkpoint(entries)
    forged = dataclasses.replace(entries[1], body={"job": "j1", "decision": "reject"})
    with pytest.raises(CryptoError, match="signature"):
        audit([entries[0], forged, *entries[2:]], cp, KEYS)
    # the producer itself re-signs a changed record: the signature is fine, the root is not
    resigned = sign_entry("consent.decision", "telco", {"job": "j1", "decision": "reject"}, TELCO)
    with pytest.raises(CryptoError, match="checkpoint"):
        audit([entries[0], resigned, *entries[2:]], cp, KEYS)


def test_deleted_or_reordered_entry_is_detected() -> None:
    entries = _log()
    cp = _checkpoint(entries)
    with pytest.raises(CryptoError):
        audit(entries[:2] + entries[3:], cp, KEYS)
    with pytest.raises(CryptoError):
        audit([entries[1], entries[0], *entries[2:]], cp, KEYS)
    with pytest.raises(CryptoError):
        audit([*entries, sign_entry("node.admin", "mallory", {}, SigningKey.generate())], cp, KEYS)
