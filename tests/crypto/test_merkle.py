"""RFC 9162 Merkle tree hashing and proofs against published Certificate Transparency vectors.

Vectors (leaf inputs, root hashes for every tree size, inclusion and consistency proofs) are
copied from Go's transparency-dev/merkle (Apache-2.0), which implements RFC 6962/9162 hashing:

* ``testonly/constants.go`` at commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1
  (``LeafInputs``, ``RootHashes``);
* ``testonly/reference_test.go`` at commit 141d627eab770a7e9a2514f46a8b6338e6d90874
  (``TestRefInclusionProof``, ``TestRefConsistencyProof``).

The same vectors back google/certificate-transparency's ``merkle_tree_test.cc``.
"""

from __future__ import annotations

import pytest

from coalition.core.errors import CryptoError
from coalition.crypto import merkle

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]

_H = {
    "l1": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "l0": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "n01": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "n23": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "l4": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "n4567": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "n67": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "n0123": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "n45": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
}

INCLUSION = [  # (index, size, proof) — TestRefInclusionProof
    (0, 1, []),
    (0, 2, ["l1"]),
    (1, 2, ["l0"]),
    (2, 3, ["n01"]),
    (1, 5, ["l0", "n23", "l4"]),
    (0, 8, ["l1", "n23", "n4567"]),
    (5, 8, ["l4", "n67", "n0123"]),
]

CONSISTENCY = [  # (old size, new size, proof) — TestRefConsistencyProof
    (1, 1, []),
    (1, 8, ["l1", "n23", "n4567"]),
    (2, 5, ["n23", "l4"]),
    (6, 8, ["n45", "n67", "n0123"]),
]

LEAVES = [merkle.leaf_hash(e) for e in LEAF_INPUTS]


def _hex(names: list[str]) -> list[bytes]:
    return [bytes.fromhex(_H[n]) for n in names]


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_root_hash_matches_vectors(size: int) -> None:
    assert merkle.root_hash(LEAVES[:size]) == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "names"), INCLUSION)
def test_inclusion_proof_matches_vectors(index: int, size: int, names: list[str]) -> None:
    proof = merkle.inclusion_proof(LEAVES[:size], index)
    assert proof == _hex(names)
    merkle.verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "names"), CONSISTENCY)
def test_consistency_proof_matches_vectors(old: int, new: int, names: list[str]) -> None:
    proof = merkle.consistency_proof(LEAVES[:new], old)
    assert proof == _hex(names)
    merkle.verify_consistency(old, new, proof, ROOTS[old], ROOTS[new])


def test_every_proof_up_to_eight_leaves_verifies() -> None:
    for size in range(1, 9):
        for index in range(size):
            proof = merkle.inclusion_proof(LEAVES[:size], index)
            merkle.verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])
        for old in range(size + 1):
            proof = merkle.consistency_proof(LEAVES[:size], old)
            merkle.verify_consistency(old, size, proof, ROOTS[old], ROOTS[size])


def test_inclusion_rejects_wrong_leaf_index_root_or_path() -> None:
    proof = merkle.inclusion_proof(LEAVES, 5)
    with pytest.raises(CryptoError):
        merkle.verify_inclusion(LEAVES[4], 5, 8, proof, ROOTS[8])
    with pytest.raises(CryptoError):
        merkle.verify_inclusion(LEAVES[5], 4, 8, proof, ROOTS[8])
    with pytest.raises(CryptoError):
        merkle.verify_inclusion(LEAVES[5], 5, 8, proof, ROOTS[7])
    with pytest.raises(CryptoError):
        merkle.verify_inclusion(LEAVES[5], 5, 8, proof[:-1], ROOTS[8])
    with pytest.raises(CryptoError):
        merkle.verify_inclusion(LEAVES[5], 5, 8, [*proof, proof[0]], ROOTS[8])
    with pytest.raises(CryptoError):
        merkle.verify_inclusion(LEAVES[5], 8, 8, proof, ROOTS[8])
    with pytest.raises(CryptoError):
        merkle.verify_inclusion(LEAVES[5], 5, 8, [proof[0][:31], *proof[1:]], ROOTS[8])


def test_a_rewritten_history_fails_consistency() -> None:
    """The fork a witness must catch: same old size, an entry changed, then the log grown."""
    forked = list(LEAVES)
    forked[2] = merkle.leaf_hash(b"rewritten")
    proof = merkle.consistency_proof(forked, 4)
    with pytest.raises(CryptoError):
        merkle.verify_consistency(4, 8, proof, ROOTS[4], merkle.root_hash(forked))
    deleted = LEAVES[:2] + LEAVES[3:] + [merkle.leaf_hash(b"pad")]
    proof = merkle.consistency_proof(deleted, 4)
    with pytest.raises(CryptoError):
        merkle.verify_consistency(4, 8, proof, ROOTS[4], merkle.root_hash(deleted))
    with pytest.raises(CryptoError):
        merkle.verify_consistency(5, 5, [], ROOTS[5], merkle.root_hash(forked[:5]))


def test_consistency_rejects_bad_shapes() -> None:
    proof = merkle.consistency_proof(LEAVES, 6)
    with pytest.raises(CryptoError):
        merkle.verify_consistency(6, 8, proof[:-1], ROOTS[6], ROOTS[8])
    with pytest.raises(CryptoError):
        merkle.verify_consistency(6, 8, [*proof, proof[0]], ROOTS[6], ROOTS[8])
    with pytest.raises(CryptoError):
        merkle.verify_consistency(6, 8, [], ROOTS[6], ROOTS[8])
    with pytest.raises(CryptoError):
        merkle.verify_consistency(8, 6, proof, ROOTS[8], ROOTS[6])
    with pytest.raises(CryptoError):
        merkle.verify_consistency(3, 3, [ROOTS[3]], ROOTS[3], ROOTS[3])
    with pytest.raises(CryptoError):
        merkle.consistency_proof(LEAVES, 9)
    with pytest.raises(CryptoError):
        merkle.inclusion_proof(LEAVES, 8)
    with pytest.raises(CryptoError):
        merkle.root_hash([b"short"])


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    a, b = LEAVES[0], LEAVES[1]
    assert merkle.leaf_hash(a + b) != merkle.node_hash(a, b)
    assert merkle.root_hash([]) == merkle.EMPTY_ROOT


def test_incremental_tree_answers_for_every_prefix() -> None:
    tree = merkle.MerkleTree()
    for i, leaf in enumerate(LEAVES):
        assert tree.append(leaf) == i
    assert tree.size == 8
    for size in range(9):
        assert tree.root(size) == ROOTS[size]
    for index, size, names in INCLUSION:
        assert tree.inclusion_proof(index, size) == _hex(names)
    for old, new, names in CONSISTENCY:
        assert tree.consistency_proof(old, new) == _hex(names)
    big = merkle.MerkleTree(merkle.leaf_hash(b"%d" % i) for i in range(1000))
    proof = big.inclusion_proof(617, 900)
    merkle.verify_inclusion(merkle.leaf_hash(b"617"), 617, 900, proof, big.root(900))
    merkle.verify_consistency(333, 1000, big.consistency_proof(333), big.root(333), big.root())
    with pytest.raises(CryptoError):
        big.root(1001)
