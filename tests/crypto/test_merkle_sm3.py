"""The RFC 9162 tree with SM3 (the ``sm`` suite's federation log): the RFC's recursion with
``H = SM3`` and the same 0x00/0x01 prefixes, checked against a direct transcription of RFC 9162
§2.1.1 and pinned; inclusion and consistency proofs of every size verify under SM3 and fail
under SHA-256; signed tree heads name the hash, SHA-256 heads keep their bytes."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes

from coalition.core.errors import CryptoError
from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint, Witness
from coalition.crypto.signing import SigningKey
from coalition.crypto.suite import digest_alg

# the leaf inputs of the Certificate Transparency vectors (tests/crypto/test_merkle.py)
LEAF_INPUTS = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]

SM3_ROOTS = [bytes.fromhex(h) for h in (
    "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b",  # SM3("")
    "2daef60e7a0b8f5e024c81cd2ab3109f2b4f155cf83adeb2ae5532f74a157fdf",
    "0b990fe0c7ad70f1bf1a1262f2c7908ea48146b14253a6db99f2917ab1f5cc4d",
    "209ec96a210d662a964772680e8544d18cab7b88ffec3e00962220349b56ea56",
    "28e4e307ef6d2d0c62d84b11ef96e835efe490f35b93c8f024ecfe38c8dd4377",
    "bb10c996aeebbcdc69be3715fc847344de77442d37a5ab8213da9f41785b103b",
    "8723c1ab1f82ddfba4a3733ac0c80d936d9f4c208c7dbc8cc81ca9fff8584f66",
    "bd36c22a1ac6ff4308e0c3cc1a85bf0ffa30538ec60a55c70413ab15d45db4d2",
    "bc48ba7a709184b5f2a631e1adeb8dc2a0d4c018c1d6cc89b5664fe154c93b38",
)]


def _sm3(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def _mth(inputs: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, transcribed: MTH over SM3."""
    n = len(inputs)
    if n == 0:
        return _sm3(b"")
    if n == 1:
        return _sm3(b"\x00" + inputs[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return _sm3(b"\x01" + _mth(inputs[:k]) + _mth(inputs[k:]))


LEAVES = [merkle.leaf_hash(x, "sm3") for x in LEAF_INPUTS]


def test_sm3_roots_known_answers_and_rfc_recursion():
    assert merkle.empty_root("sm3") == SM3_ROOTS[0]
    for n in range(len(LEAF_INPUTS) + 1):
        assert merkle.root_hash(LEAVES[:n], "sm3") == SM3_ROOTS[n] == _mth(LEAF_INPUTS[:n])
    assert digest_alg("sm") == "sm3" and digest_alg("standard") == "sha256"
    with pytest.raises(CryptoError):
        merkle.leaf_hash(b"x", "md5")


@pytest.mark.parametrize("size", range(1, 9))
def test_inclusion_and_consistency_proofs_under_sm3(size):
    tree = merkle.MerkleTree(LEAVES[:size], "sm3")
    root = SM3_ROOTS[size]
    for index in range(size):
        proof = tree.inclusion_proof(index)
        merkle.verify_inclusion(LEAVES[index], index, size, proof, root, alg="sm3")
        if proof:  # a proof of the SM3 tree does not verify as a SHA-256 tree
            with pytest.raises(CryptoError):
                merkle.verify_inclusion(LEAVES[index], index, size, proof, root)
    for old in range(1, size + 1):
        proof = tree.consistency_proof(old)
        merkle.verify_consistency(old, size, proof, SM3_ROOTS[old], root, alg="sm3")
        if proof and old < size:
            with pytest.raises(CryptoError):
                merkle.verify_consistency(old, size, proof, SM3_ROOTS[old], root)
            with pytest.raises(CryptoError):  # a rewritten first leaf is a fork
                forged = merkle.MerkleTree([merkle.leaf_hash(b"forged", "sm3"), *LEAVES[1:size]],
                                           "sm3")
                merkle.verify_consistency(old, size, forged.consistency_proof(old),
                                          SM3_ROOTS[old], forged.root(), alg="sm3")


def test_checkpoint_names_its_tree_hash_in_the_signed_body():
    standard = Checkpoint("coalition.ledger/bank", 3, SM3_ROOTS[3])
    assert standard.body() == (b"coalition.ledger/bank\n3\n"
                               b"IJ7JaiENZiqWR3JoDoVE0Yyre4j/7D4AliIgNJtW6lY=\n")
    sm = Checkpoint("coalition.ledger/bank/sm3", 3, SM3_ROOTS[3], "sm3")
    assert sm.body().endswith(b"\nhash sm3\n")
    assert Checkpoint.from_body(sm.body()) == sm
    assert Checkpoint.from_body(standard.body()) == standard
    for bad in (standard.body() + b"hash sha256\n", standard.body() + b"other\n",
                sm.body() + b"more\n"):
        with pytest.raises(CryptoError):
            Checkpoint.from_body(bad)


def test_a_witness_of_an_sm3_log_refuses_a_sha256_head():
    operator = SigningKey.generate("sm")
    origin = "coalition.ledger/bank/sm3"
    witness = Witness(SigningKey.generate("sm"), operator.verify_key, origin, alg="sm3")
    first = Checkpoint(origin, 2, SM3_ROOTS[2], "sm3")
    witness.cosign(first, first.sign(operator), [])
    tree = merkle.MerkleTree(LEAVES[:4], "sm3")
    second = Checkpoint(origin, 4, SM3_ROOTS[4], "sm3")
    witness.cosign(second, second.sign(operator), tree.consistency_proof(2))
    sha_leaves = [merkle.leaf_hash(x) for x in LEAF_INPUTS[:5]]
    downgraded = Checkpoint(origin, 5, merkle.root_hash(sha_leaves))
    with pytest.raises(CryptoError, match="another tree hash"):
        witness.cosign(downgraded, downgraded.sign(operator),
                       merkle.consistency_proof(sha_leaves, 4))
    assert witness.last == second
