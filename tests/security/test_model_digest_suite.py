"""Model-part digests follow the node's crypto suite (SM3 under ``sm``) and record their
algorithm; parts published before keep verifying, and an insider who edits the recorded
algorithm (database write access, no signing key) is caught with a typed error."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives import hashes
from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from nodekit import NodeEnv, make_env

from coalition.components import ModelPart
from coalition.core.ids import Role
from coalition.crypto.signing import SigningKey
from coalition.node.auth.permissions import UserRole
from coalition.node.library.integrity import (
    DigestAlgorithmMismatch,
    ModelTampered,
    check_part,
    part_digest,
    sign_part,
    signed_record,
)
from coalition.node.library.tables import ModelVersionRow
from coalition.protocols.linear import LinearModelPart, Standardizer

BLOB = b"model part bytes"
RECORD = {"name": "credit", "version": 3, "org": "bank", "role": "guest"}


def test_known_answers():
    assert part_digest(BLOB) == hashlib.sha256(BLOB).hexdigest() == (
        "5e9e08b9a328232bcb50a84d9ac76d96f6a50513599610a8a7906f73cc686a83")
    sm3 = hashes.Hash(hashes.SM3())
    sm3.update(BLOB)
    assert part_digest(BLOB, "sm3") == sm3.finalize().hex() == (
        "cb5ac95823cb9daaa2a03d79b1247a18fe31295aba103bcc71f3bf95fe01ac9c")
    # SHA-256 records keep their exact bytes; an SM3 record names its algorithm
    assert signed_record("credit", 3, "bank", "guest", "ab" * 32) == (
        b'{"domain":"coalition-model-part/1","model":"credit","org":"bank","role":"guest",'
        b'"sha256":"' + b"ab" * 32 + b'","version":3}')
    assert signed_record("credit", 3, "bank", "guest", "ab" * 32, alg="sm3") == (
        b'{"alg":"sm3","domain":"coalition-model-part/1","model":"credit","org":"bank",'
        b'"role":"guest","sha256":"' + b"ab" * 32 + b'","version":3}')


def _signed(key: SigningKey, alg: str | None) -> dict[str, object]:
    sha = part_digest(BLOB, alg or "sha256")
    return {"expected_sha256": sha, "signer": key.verify_key.to_bytes().hex(),
            "digest_alg": alg, **RECORD,
            "signature": sign_part(key, RECORD["name"], RECORD["version"], org=RECORD["org"],
                                   role=RECORD["role"], sha256=sha, alg=alg or "sha256")}


def test_parts_from_before_the_algorithm_was_recorded_keep_verifying():
    for suite in ("standard", "sm"):  # an sm node's older parts: SHA-256 digest, SM2 signature
        key = SigningKey.generate(suite)
        check_part(BLOB, key=key.verify_key, **_signed(key, None))
        check_part(BLOB, key=key.verify_key, **_signed(key, "sha256"))


def test_an_edited_algorithm_fails_with_a_typed_error():
    key = SigningKey.generate("sm")
    good = _signed(key, "sm3")
    check_part(BLOB, key=key.verify_key, **good)
    # the record now claims SHA-256, digest left as it was: the digest is the file's SM3
    with pytest.raises(DigestAlgorithmMismatch, match="digest was made with another"):
        check_part(BLOB, key=key.verify_key, **{**good, "digest_alg": "sha256"})
    # ... digest replaced by the file's SHA-256 too: the signature binds SM3
    relabelled = {**good, "digest_alg": "sha256", "expected_sha256": part_digest(BLOB)}
    with pytest.raises(DigestAlgorithmMismatch, match="signed with another"):
        check_part(BLOB, key=key.verify_key, **relabelled)
    with pytest.raises(DigestAlgorithmMismatch, match="unknown"):
        check_part(BLOB, key=key.verify_key, **{**good, "digest_alg": "md5"})
    # a modified file is still plain tampering
    with pytest.raises(ModelTampered, match="SM3 digest differs") as err:
        check_part(BLOB + b"!", key=key.verify_key, **good)
    assert not isinstance(err.value, DigestAlgorithmMismatch)
    assert DigestAlgorithmMismatch.code == "model.digest_algorithm"


def _part() -> ModelPart:
    w = np.asarray([1.0, 2.0])
    model = LinearModelPart("guest", "logistic", "ss", ["x0", "x1"], w,
                            Standardizer(np.zeros(2), np.ones(2)), 0.5)
    return ModelPart("hetero_lr", Role.GUEST, model.to_artifact())


@pytest.fixture(params=["standard", "sm"])
def node(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[NodeEnv]:
    (tmp_path / "data").mkdir()
    env = make_env(tmp_path / "bank", data_dirs=[tmp_path / "data"], crypto_suite=request.param)
    yield env
    env.close()


def test_a_node_digests_parts_in_its_suite_and_catches_an_edited_algorithm(node: NodeEnv):
    from servingkit import write_part

    path = write_part(_part(), node.home / "data" / "a.msgpack")
    r = node.client.post("/api/v1/models", headers=node.auth(UserRole.DATA_SCIENTIST),
                         json={"name": "churn", "source": {"artifact": str(path)}})
    assert r.status_code == 201, r.text
    sm = node.rt.settings.crypto_suite == "sm"
    alg = "sm3" if sm else "sha256"
    body = r.json()
    stored = (node.home / "models" / "churn" / "1" / "part.msgpack").read_bytes()
    assert body["digest_alg"] == alg and body["sha256"] == part_digest(stored, alg)
    assert body["parties"][0]["digest_alg"] == alg
    url = "/api/v1/models/churn/versions/1/verify"
    verified = node.client.post(url, headers=node.auth())
    assert verified.status_code == 200 and verified.json()["digest_alg"] == alg
    other = "sha256" if sm else "sm3"
    with node.rt.db.session() as db:  # the insider relabels the part and recomputes its digest
        db.execute(update(ModelVersionRow).values(part_digest_alg=other,
                                                  part_sha256=part_digest(stored, other)))
    r = node.client.post(url, headers=node.auth())
    assert r.status_code == 409 and r.json()["code"] == "model.digest_algorithm"
