"""Hostile log operator: a witness on the partner's side catches a forked or rewritten history.

The operator holds its signing key and the log, so it can sign any tree head it likes; what it
cannot do is make a second history pass the witness's consistency check against the head the
witness already co-signed (RFC 9162 §2.1.4).
"""

from __future__ import annotations

import pytest

from coalition.core.errors import CryptoError
from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint, ForkDetected, Witness, count_cosignatures
from coalition.crypto.signing import SigningKey

ORIGIN = "coalition.test/federation-1"


def _entries(n: int, tag: bytes = b"entry") -> list[bytes]:
    return [merkle.leaf_hash(tag + b"-%d" % i) for i in range(n)]


def _head(leaves: list[bytes], operator: SigningKey) -> tuple[Checkpoint, bytes]:
    cp = Checkpoint(ORIGIN, len(leaves), merkle.root_hash(leaves))
    return cp, cp.sign(operator)


def test_honest_growth_is_cosigned_and_reaches_quorum() -> None:
    operator = SigningKey.generate()
    keys = {name: SigningKey.generate() for name in ("bank", "telco", "arbiter")}
    witnesses = {n: Witness(k, operator.verify_key, ORIGIN) for n, k in keys.items()}
    log = _entries(3)
    cp, sig = _head(log, operator)
    for w in witnesses.values():
        w.cosign(cp, sig, [])
    log += _entries(4, b"more")
    cp2, sig2 = _head(log, operator)
    proof = merkle.consistency_proof(log, 3)
    cosigs = {n: w.cosign(cp2, sig2, proof) for n, w in witnesses.items()}
    public = {n: k.verify_key for n, k in keys.items()}
    assert count_cosignatures(cp2, cosigs, public) == 3
    # A co-signature is bound to its head and to its witness's key.
    assert count_cosignatures(cp, cosigs, public) == 0
    forged = {"bank": cosigs["telco"], "mallory": cosigs["telco"]}
    assert count_cosignatures(cp2, forged, public) == 0


@pytest.mark.parametrize("attack", ["modify", "delete", "reorder", "shrink"])
def test_operator_fork_is_detected_and_witness_keeps_its_head(attack: str) -> None:
    operator = SigningKey.generate()
    witness = Witness(SigningKey.generate(), operator.verify_key, ORIGIN)
    log = _entries(5)
    seen, sig = _head(log, operator)
    witness.cosign(seen, sig, [])
    forked = list(log)
    if attack == "modify":
        forked[1] = merkle.leaf_hash(b"consent: granted")  # rewrite a recorded decision
    elif attack == "delete":
        del forked[2]
    elif attack == "reorder":
        forked[0], forked[3] = forked[3], forked[0]
    if attack == "shrink":
        forked = forked[:4]
    else:
        forked += _entries(3, b"later")
    cp, sig = _head(forked, operator)
    proof = merkle.consistency_proof(forked, min(5, len(forked)))
    with pytest.raises(ForkDetected) as caught:
        witness.cosign(cp, sig, proof)
    assert caught.value.code == "ledger.fork"
    assert witness.last == seen


def test_a_head_not_signed_by_the_operator_is_refused() -> None:
    operator = SigningKey.generate()
    witness = Witness(SigningKey.generate(), operator.verify_key, ORIGIN)
    cp, _ = _head(_entries(2), operator)
    with pytest.raises(CryptoError):
        witness.cosign(cp, SigningKey.generate().sign(cp.body()), [])
    assert witness.last is None


def test_checkpoint_body_round_trips_and_rejects_garbage() -> None:
    cp = Checkpoint(ORIGIN, 7, merkle.root_hash(_entries(7)))
    assert Checkpoint.from_body(cp.body()) == cp
    for bad in (b"x\n-1\nAAAA\n", cp.body() + b"extra", b"\xff\xfe", b"one line"):
        with pytest.raises(CryptoError):
            Checkpoint.from_body(bad)
