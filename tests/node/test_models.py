"""The model library on one node: publish from a file or a job's stored task output, list,
view, compare, verify, tamper protection, delete."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from nodekit import NodeEnv

from coalition.components import ModelPart
from coalition.core.ids import Role
from coalition.crypto.signing import SigningKey
from coalition.node.auth.permissions import UserRole
from coalition.node.library.integrity import ModelTampered, check_part, signed_record
from coalition.node.signing import signing_key
from coalition.protocols.linear import LinearModelPart, Standardizer


def _part(weights: list[float]) -> ModelPart:
    w = np.asarray(weights)
    scaler = Standardizer(np.zeros(len(w)), np.ones(len(w)))
    model = LinearModelPart("guest", "logistic", "ss", [f"x{i}" for i in range(len(w))], w,
                            scaler, 0.5)
    return ModelPart("hetero_lr", Role.GUEST, model.to_artifact())


def _write(env: NodeEnv, name: str, part: ModelPart) -> Path:
    from servingkit import write_part

    return write_part(part, env.home / "data" / name)


def _publish(env: NodeEnv, source: dict[str, Any], **kw: Any) -> Any:
    return env.client.post("/api/v1/models", headers=env.auth(UserRole.DATA_SCIENTIST),
                           json={"name": "churn", "source": source, **kw})


def _kinds(env: NodeEnv) -> list[str]:
    return [e["kind"] for e in env.client.get("/api/v1/audit/events?limit=500",
                                              headers=env.auth()).json()]


def test_publish_list_view_compare(env: NodeEnv) -> None:
    first = _publish(env, {"artifact": str(_write(env, "a.msgpack", _part([1.0, 2.0])))},
                     params={"epochs": 3}, metrics={"auc": 0.80}, dag_hash="ab" * 32)
    assert first.status_code == 201, first.text
    second = _publish(env, {"artifact": str(_write(env, "b.msgpack", _part([1.0, 3.0])))},
                      params={"epochs": 5}, metrics={"auc": 0.85})
    assert second.json()["version"] == 2
    v1 = first.json()
    assert v1["component"] == "hetero_lr" and v1["role"] == "guest" and v1["guest"] == "bank"
    assert v1["parties"] == [{"org": "bank", "role": "guest", "sha256": v1["sha256"],
                              "digest_alg": "sha256", "party": None}]
    assert v1["signer"] == signing_key(env.rt.settings).verify_key.to_bytes().hex()
    listed = env.client.get("/api/v1/models?name=churn", headers=env.auth(UserRole.AUDITOR))
    assert [m["version"] for m in listed.json()] == [1, 2]
    cmp = env.client.get("/api/v1/models/churn/compare?a=1&b=2", headers=env.auth()).json()
    assert cmp["params"] == {"epochs": [3, 5]}
    assert cmp["metrics"]["auc"]["delta"] == pytest.approx(0.05)
    assert cmp["same_part"] is False and cmp["dag_hash"] == ["ab" * 32, None]
    assert "model.published" in _kinds(env)


def test_publishing_from_a_task_needs_a_succeeded_task_here(env: NodeEnv) -> None:
    from servingkit import record_job

    record_job(env.rt, "job-1", parts={"guest:bank": _part([0.5])}, state="running")
    r = _publish(env, {"job_id": "job-1", "task": "lr"})
    assert r.status_code == 409 and r.json()["details"]["state"] == "running"
    assert _publish(env, {"job_id": "job-404", "task": "lr"}).status_code == 404
    assert _publish(env, {"job_id": "job-1", "task": "nope"}).status_code == 404
    assert _publish(env, {"job_id": "job-1"}).status_code == 422
    record_job(env.rt, "job-2", parts={}, state="succeeded")
    r = _publish(env, {"job_id": "job-2", "task": "lr"})
    assert r.status_code == 404 and "no single model output" in r.json()["detail"]


def test_paths_outside_the_data_folders_are_refused(env: NodeEnv, tmp_path: Path) -> None:
    from servingkit import write_part

    outside = write_part(_part([1.0]), tmp_path / "outside.msgpack")
    r = _publish(env, {"artifact": str(outside)})
    assert r.status_code == 422 and "outside" in r.json()["detail"]


def test_modified_part_is_refused_and_alerted(env: NodeEnv) -> None:
    _publish(env, {"artifact": str(_write(env, "a.msgpack", _part([1.0, 2.0])))})
    url = "/api/v1/models/churn/versions/1/verify"
    r = env.client.post(url, headers=env.auth(UserRole.AUDITOR))
    assert r.status_code == 200 and r.json() == {"ok": True, "sha256": r.json()["sha256"],
                                                   "digest_alg": "sha256", "signed": True}
    part = env.home / "models" / "churn" / "1" / "part.msgpack"
    part.write_bytes(part.read_bytes().replace(b"logistic", b"logistiC"))
    r = env.client.post(url, headers=env.auth(UserRole.AUDITOR))
    assert r.status_code == 409
    assert r.json()["code"] == "model.tampered" and "SHA-256" in r.json()["detail"]
    kinds = _kinds(env)
    assert kinds.count("model.tampered") == 1 and "model.verified" in kinds
    part.unlink()
    assert env.client.post(url, headers=env.auth()).json()["code"] == "model.tampered"


def test_signature_binds_digest_name_and_version(env: NodeEnv) -> None:
    key = signing_key(env.rt.settings)
    blob = b"part bytes"
    sha = hashlib.sha256(blob).hexdigest()
    sig = key.sign(signed_record("m", 1, "bank", "guest", sha)).hex()
    common = {"expected_sha256": sha, "signer": key.verify_key.to_bytes().hex(),
              "key": key.verify_key, "org": "bank", "role": "guest"}
    check_part(blob, signature=sig, name="m", version=1, **common)
    with pytest.raises(ModelTampered, match="signature"):
        check_part(blob, signature=sig, name="m", version=2, **common)  # swapped version
    with pytest.raises(ModelTampered, match="another key"):
        check_part(blob, signature=sig, name="m", version=1,
                   **{**common, "signer": "00" * 32})
    forged = SigningKey.generate().sign(signed_record("m", 1, "bank", "guest", sha)).hex()
    with pytest.raises(ModelTampered, match="signature"):
        check_part(blob, signature=forged, name="m", version=1, **common)


def test_turning_protection_on_signs_an_existing_version(env: NodeEnv) -> None:
    r = _publish(env, {"artifact": str(_write(env, "a.msgpack", _part([1.0])))}, protected=False)
    assert r.json()["protected"] is False and r.json()["signer"] is None
    url = "/api/v1/models/churn/versions/1"
    r = env.client.put(f"{url}/protection", headers=env.auth(), json={"enabled": True})
    assert r.status_code == 200 and r.json()["protected"] and r.json()["signer"]
    assert env.client.post(f"{url}/verify", headers=env.auth()).json()["signed"] is True
    r = env.client.put(f"{url}/protection", headers=env.auth(UserRole.AUDITOR),
                       json={"enabled": False})
    assert r.status_code == 403
    assert "model.protection_changed" in _kinds(env)
    # A part modified while unprotected cannot be signed into legitimacy.
    env.client.put(f"{url}/protection", headers=env.auth(), json={"enabled": False})
    part = env.home / "models" / "churn" / "1" / "part.msgpack"
    part.write_bytes(part.read_bytes() + b"\x00")
    r = env.client.put(f"{url}/protection", headers=env.auth(), json={"enabled": True})
    assert r.status_code == 409 and r.json()["code"] == "model.tampered"


def test_delete_and_not_found(env: NodeEnv) -> None:
    _publish(env, {"artifact": str(_write(env, "a.msgpack", _part([1.0])))})
    folder = env.home / "models" / "churn" / "1"
    assert folder.is_dir()
    r = env.client.delete("/api/v1/models/churn/versions/1", headers=env.auth())
    assert r.status_code == 200 and r.json() == {"ok": True, "hosts": {}}
    assert not folder.exists()
    assert env.client.get("/api/v1/models/churn/versions/1", headers=env.auth()).status_code == 404
    assert "model.deleted" in _kinds(env)
