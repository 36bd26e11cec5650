"""Signatures follow the node's crypto suite: a node on ``sm`` signs model parts and audit
checkpoints with SM2 (GB/T 32918.2) and refuses an Ed25519 (``standard``) signature — the
hostile partner or insider re-signs a part with a key of the other suite."""

import pickle

import pytest

from coalition.core import codec
from coalition.core.errors import CryptoError
from coalition.crypto.signing import SigningKey
from coalition.node.library.integrity import ModelTampered, check_part, part_digest, sign_part
from coalition.node.settings import NodeSettings
from coalition.node.signing import signing_key

BLOB = b"model part bytes"
RECORD = {"name": "credit", "version": 3, "org": "bank", "role": "guest"}


def _signed(key: SigningKey) -> dict[str, object]:
    sha = part_digest(BLOB)
    return {"expected_sha256": sha, "signer": key.verify_key.to_bytes().hex(),
            "signature": sign_part(key, RECORD["name"], RECORD["version"], org=RECORD["org"],
                                   role=RECORD["role"], sha256=sha)}


def test_sm_keys_sign_and_verify_through_the_one_api():
    key = SigningKey.generate("sm")
    public = key.verify_key
    assert public.suite.value == "sm" and len(public.to_bytes()) == 33
    signature = key.sign(b"message")
    assert len(signature) == 64
    public.verify(b"message", signature, suite="sm")
    with pytest.raises(CryptoError):
        public.verify(b"other", signature)
    again = SigningKey(key.to_seed(), "sm")
    assert again.verify_key == public
    assert codec.decode(codec.encode({"k": public}))["k"] == public
    assert pickle.loads(pickle.dumps(public)) == public  # to worker processes, by value


def test_a_verifier_on_one_suite_refuses_a_key_of_the_other():
    ed = SigningKey.generate()
    with pytest.raises(CryptoError):
        ed.verify_key.verify(b"m", ed.sign(b"m"), suite="sm")
    sm = SigningKey.generate("sm")
    with pytest.raises(CryptoError):
        sm.verify_key.verify(b"m", sm.sign(b"m"), suite="standard")


def test_an_sm_node_signs_with_sm2_and_refuses_a_part_signed_with_ed25519(tmp_path):
    node_key = signing_key(NodeSettings(home=tmp_path, name="bank", crypto_suite="sm"))
    assert node_key.suite.value == "sm"
    check_part(BLOB, key=node_key.verify_key, **_signed(node_key), **RECORD)
    # the attacker re-signs the part with an Ed25519 key (a standard-suite signature)
    forged = _signed(SigningKey.generate())
    with pytest.raises(ModelTampered, match="another crypto suite"):
        check_part(BLOB, key=node_key.verify_key, **forged, **RECORD)
    # ... or keeps the node's SM2 public key as signer but puts an Ed25519 signature under it
    mixed = {**_signed(node_key), "signature": forged["signature"]}
    with pytest.raises(ModelTampered):
        check_part(BLOB, key=node_key.verify_key, **mixed, **RECORD)


def test_standard_node_keeps_its_ed25519_key(tmp_path):
    settings = NodeSettings(home=tmp_path, name="bank")
    key = signing_key(settings)
    assert key.suite.value == "standard" and len(key.verify_key.to_bytes()) == 32
    with pytest.raises(ModelTampered, match="another crypto suite"):
        check_part(BLOB, key=key.verify_key, **_signed(SigningKey.generate("sm")), **RECORD)
