"""Issue 16 finding 6: the audit trail attacked by someone who can write the node database.

The attacker edits ``node.db`` directly (SQL), but cannot read ``identity/audit.key`` or the
node's Ed25519 signing key. Each attack below went unnoticed on 3deb866, where the chain was
plain SHA-256 and anyone could recompute it.

The attacks that use the ``env`` fixture run against a node of each crypto suite: ``standard``
(SHA-256 chain, HMAC-SHA256, Ed25519 checkpoints) and ``sm`` (SM3, HMAC-SM3, SM2).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from nodekit import NodeEnv, make_env

from coalition.cli import audit as audit_cli
from coalition.core.errors import CoalitionError
from coalition.crypto.sm.sm3 import hmac_sm3
from coalition.node import NodeRuntime
from coalition.node.audit import trail as audit
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.audit.tables import AuditEvent
from coalition.node.auth.permissions import UserRole
from coalition.node.db.engine import Database
from coalition.node.settings import NodeSettings

_stopped: set[int] = set()


@pytest.fixture(params=["standard", "sm"])
def env(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[NodeEnv]:
    node = make_env(tmp_path / "bank", crypto_suite=request.param)
    yield node
    if id(node) not in _stopped:
        node.close()


def _cli_verify(home: Path) -> tuple[int, dict[str, object]]:
    app = typer.Typer()
    audit_cli.register(app)
    result = CliRunner().invoke(app, ["audit", "verify", str(home), "--json"])
    return result.exit_code, json.loads(result.output.strip().splitlines()[0])


def _raw_db(home: Path) -> Database:
    """The attacker's handle: the database file, without the node's audit seal."""
    return Database(NodeSettings.load(home).db_url)


def _stop(env: NodeEnv) -> None:
    """Stop the node cleanly (it signs a checkpoint of its head on the way out)."""
    env.close()
    _stopped.add(id(env))


def _row(**columns: object) -> AuditEvent:
    # ``mac`` exists only once the chain is keyed; the same attack code runs against 3deb866.
    if not hasattr(AuditEvent, "mac"):
        columns.pop("mac", None)
    if not hasattr(AuditEvent, "alg"):
        columns.pop("alg", None)
    return AuditEvent(**columns)


def _recompute_plain_chain(db: Database) -> None:
    """What the 3deb866 docs said was enough: renumber and recompute every SHA-256 hash."""
    with db.session() as s:
        rows = [(r.at, r.kind, r.actor, r.subject, r.details, getattr(r, "mac", None),
                 getattr(r, "alg", None))
                for r in s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()]
        s.execute(delete(AuditEvent))
        s.flush()
        prev = audit.GENESIS
        for seq, (at, kind, actor, subject, details, mac, alg) in enumerate(rows, start=1):
            # the attacker uses each entry's own (public) algorithm: SHA-256 or SM3
            digest = audit.entry_hash(prev, seq=seq, at=at, kind=kind, actor=actor,
                                      subject=subject, details=details, alg=alg or "sha256")
            s.add(_row(seq=seq, at=at, kind=kind, actor=actor, subject=subject,
                       details=details, prev_hash=prev, hash=digest, mac=mac, alg=alg))
            prev = digest


def test_deleted_row_with_recomputed_chain_is_detected(env: NodeEnv) -> None:
    # Hide one login: delete its row and recompute the whole SHA-256 chain after it.
    home = env.home
    _stop(env)
    db = _raw_db(home)
    with db.session() as s:
        victim = s.scalars(select(AuditEvent.seq).where(AuditEvent.kind == "auth.login")).first()
        assert victim is not None
        s.execute(delete(AuditEvent).where(AuditEvent.seq == victim))
    _recompute_plain_chain(db)
    # ... and, for the next variant, strip the MACs too (as if the chain had never been keyed).
    code, out = _cli_verify(home)
    assert code == 1 and out["ok"] is False and out["first_bad"] == victim
    with db.session() as s:
        s.execute(update(AuditEvent).values(mac=None))
    db.dispose()
    code, out = _cli_verify(home)
    assert code == 1 and out["ok"] is False
    with pytest.raises(CoalitionError, match="audit trail"):
        NodeRuntime.open(NodeSettings.load(home))


def test_forged_entry_without_the_key_is_detected(env: NodeEnv) -> None:
    # Append a well-chained entry whose MAC is made with a key the attacker guessed.
    with env.rt.db.session() as s:
        head = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert head is not None
        seq, at = head.seq + 1, head.at
        details = {"role": "admin", "kind": "human"}
        alg = getattr(head, "alg", None) or "sha256"  # the node's: SHA-256, or SM3 under sm
        digest = audit.entry_hash(head.hash, seq=seq, at=at, kind="user.created", actor="system",
                                  subject="user:mallory", details=details, alg=alg)
        guess = secrets.token_bytes(32)
        fake_mac = (hmac_sm3(guess, digest.encode()).hex() if alg == "sm3"
                    else hmac.new(guess, digest.encode(), hashlib.sha256).hexdigest())
        s.add(_row(seq=seq, at=at, kind="user.created", actor="system", subject="user:mallory",
                   details=details, prev_hash=head.hash, hash=digest, mac=fake_mac, alg=alg))
    r = env.client.get("/api/v1/audit/verify", headers=env.auth(UserRole.AUDITOR)).json()
    assert r["ok"] is False and r["first_bad"] == seq and "MAC" in r["reason"]
    code, out = _cli_verify(env.home)
    assert code == 1 and out["first_bad"] == seq


def _drop_newest(home: Path, n: int) -> int:
    """Delete the newest ``n`` audit rows straight from the database; the old head's seq."""
    db = _raw_db(home)
    with db.session() as s:
        last = s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).first()
        assert last is not None
        s.execute(delete(AuditEvent).where(AuditEvent.seq > last - n))
    db.dispose()
    return last


def test_truncation_before_a_checkpoint_is_detected(env: NodeEnv) -> None:
    # The node signs a checkpoint of its head when it stops; the attacker then drops the newest
    # three entries (e.g. its own logins), which leaves a perfectly linked, shorter chain.
    home = env.home
    _stop(env)
    last = _drop_newest(home, 3)
    code, out = _cli_verify(home)
    assert code == 1 and out["first_bad"] == last - 2 and "truncated" in str(out["reason"])
    with pytest.raises(CoalitionError, match="audit trail"):
        NodeRuntime.open(NodeSettings.load(home))


def test_checkpoint_signed_by_another_key_is_refused(env: NodeEnv) -> None:
    # Replacing the checkpoint file with one naming a shorter head needs the node's signing key.
    home = env.home
    _stop(env)
    path = NodeSettings.load(home).audit_checkpoint_path
    cp = json.loads(path.read_text())
    cp.update(seq=1, signature="00" * 64)
    path.write_text(json.dumps(cp))
    code, out = _cli_verify(home)
    assert code == 1 and "signature" in str(out["reason"])


def test_old_unkeyed_chain_is_reanchored_once_and_then_protected(tmp_path: Path) -> None:
    # A node from before the key: MACs NULL, no key file, no checkpoint.
    node = make_env(tmp_path / "bank")
    home = node.home
    node.close()
    settings = NodeSettings.load(home)
    db = _raw_db(home)
    with db.session() as s:
        s.execute(update(AuditEvent).values(mac=None))
        legacy = len(s.scalars(select(AuditEvent.seq)).all())
    settings.audit_key_path.unlink()
    settings.audit_checkpoint_path.unlink()
    rt = NodeRuntime.open(settings)  # the upgrade: key created, chain re-anchored, checkpoint
    rt.close()
    code, out = _cli_verify(home)
    assert code == 0 and out["legacy"] == legacy, out
    with db.session() as s:
        anchor = s.get(AuditEvent, legacy + 1)
        assert anchor is not None and anchor.kind == audit.REANCHORED
        assert anchor.details["legacy_entries"] == legacy
        # From now on an old (unkeyed) entry cannot be edited either: the anchor commits to it.
        s.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="user:mallory"))
    code, out = _cli_verify(home)
    assert code == 1 and out["first_bad"] == 2
    # Nor can a database attacker replay the upgrade by stripping every MAC.
    with db.session() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="system"))
        s.execute(update(AuditEvent).values(mac=None))
    db.dispose()
    with pytest.raises(CoalitionError, match="audit trail"):
        NodeRuntime.open(settings)


def test_alert_mode_starts_and_records_the_break(tmp_path: Path) -> None:
    node = make_env(tmp_path / "bank", audit_on_tamper="alert")
    home = node.home
    node.close()
    db = _raw_db(home)
    with db.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    db.dispose()
    rt = NodeRuntime.open(NodeSettings.load(home))
    try:
        with rt.db.session() as s:
            alert = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
            assert alert is not None and alert.kind == "audit.tamper_detected"
            assert alert.details["first_bad"] == 3
    finally:
        rt.close()
    # The alert does not bless the broken trail: verification still fails.
    assert _cli_verify(home)[0] == 1


def test_alert_mode_never_signs_over_a_truncation(tmp_path: Path) -> None:
    # Alert mode keeps the node running; later checkpoints must not re-bless a shortened trail.
    node = make_env(tmp_path / "bank", audit_on_tamper="alert", audit_checkpoint_every=2)
    home = node.home
    node.close()
    last = _drop_newest(home, 3)
    rt = NodeRuntime.open(NodeSettings.load(home))
    try:
        for i in range(10):  # enough new entries to pass the old checkpoint several times over
            with rt.db.session() as s:
                emit(s, Event(EventKind.PARTNER_HEALTH_CHECKED, "system", f"partner:p{i}"))
    finally:
        rt.close()
    code, out = _cli_verify(home)
    assert code == 1 and out["checkpoint"] == last


def test_operator_accepts_a_truncation_on_record_but_never_a_forgery(env: NodeEnv) -> None:
    home = env.home
    _stop(env)
    last = _drop_newest(home, 2)
    db = _raw_db(home)
    app = typer.Typer()
    audit_cli.register(app)
    r = CliRunner().invoke(app, ["audit", "accept", str(home), "--reason", "disk restore"])
    assert r.exit_code == 0, r.output
    assert _cli_verify(home)[0] == 0
    with db.session() as s:
        accepted = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert accepted is not None and accepted.kind == "audit.accepted"
        assert accepted.details["old_checkpoint"] == last
        # A forged entry (no key) is never accepted.
        s.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="user:mallory"))
    db.dispose()
    r = CliRunner().invoke(app, ["audit", "accept", str(home), "--reason", "please"])
    assert r.exit_code == 1 and "cannot be accepted" in r.output


def test_sm_node_chains_with_sm3_and_signs_checkpoints_with_sm2(tmp_path: Path) -> None:
    node = make_env(tmp_path / "bank", crypto_suite="sm")
    home = node.home
    node.close()
    db = _raw_db(home)
    with db.session() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert rows and {r.alg for r in rows} == {"sm3"}
        first = rows[0]
        assert first.hash == audit.entry_hash(audit.GENESIS, seq=1, at=first.at, kind=first.kind,
                                              actor=first.actor, subject=first.subject,
                                              details=first.details, alg="sm3")
        key = NodeSettings.load(home).audit_key_path.read_bytes()
        assert first.mac == hmac_sm3(key, first.hash.encode()).hex()
    cp = json.loads(NodeSettings.load(home).audit_checkpoint_path.read_text())
    assert cp["suite"] == "sm" and len(bytes.fromhex(cp["signer"])) == 33  # SM2 public key
    assert _cli_verify(home)[0] == 0
    # A database attacker relabels an SM3 entry as SHA-256 (and recomputes its SHA-256 hash):
    # the MAC, made under SM3 with the key, no longer matches.
    with db.session() as s:
        row = s.get(AuditEvent, 2)
        assert row is not None
        row.alg = "sha256"
        row.hash = audit.entry_hash(row.prev_hash, seq=2, at=row.at, kind=row.kind,
                                    actor=row.actor, subject=row.subject, details=row.details)
    db.dispose()
    code, out = _cli_verify(home)
    assert code == 1 and out["first_bad"] in (2, 3)


def test_switching_a_node_to_sm_keeps_its_older_entries_and_checkpoint_verifiable(
        tmp_path: Path) -> None:
    node = make_env(tmp_path / "bank")
    home = node.home
    node.close()
    with _raw_db(home).session() as s:
        before = len(s.scalars(select(AuditEvent.seq)).all())
    settings = NodeSettings.load(home)
    old_cp = json.loads(settings.audit_checkpoint_path.read_text())
    assert old_cp.get("suite", "standard") == "standard"
    from coalition.crypto.suite import CryptoSuite

    settings.model_copy(update={"crypto_suite": CryptoSuite.SM}).save()
    # the node opens on the Ed25519 checkpoint (its former key) and goes on in SM3/SM2
    rt = NodeRuntime.open(NodeSettings.load(home))
    with rt.db.session() as s:
        emit(s, Event(EventKind.PARTNER_HEALTH_CHECKED, "system", "partner:p"))
    rt.close()
    assert _cli_verify(home)[0] == 0
    db = _raw_db(home)
    with db.session() as s:
        algs = [r.alg for r in s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()]
        assert set(algs[:before]) == {"sha256"} and set(algs[before:]) == {"sm3"}
        # an entry of the older, SHA-256 part is still protected after the switch
        s.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="user:mallory"))
    db.dispose()
    assert json.loads(settings.audit_checkpoint_path.read_text())["suite"] == "sm"
    code, out = _cli_verify(home)
    assert code == 1 and out["first_bad"] == 2
