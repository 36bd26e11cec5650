"""Issue 18, ``he_scheme: ou`` in HE-LR: the key holder's decryption service is a key-recovery
oracle, so the privacy policy lets OU into LR only where each data owner granted it.

In HE-LR the key holder decrypts what each data party sends (its masked gradient,
``mask.decrypt_masked``) and returns the plaintext to that party. Okamoto–Uchiyama plaintexts
live in ``Z_p`` with ``p`` secret: a ciphertext of ``m >= p`` decrypts to ``m mod p``, so
``m - (m mod p)`` is a multiple of ``p`` and one ``gcd`` with ``n = p²q`` factors the key
(the scheme's known chosen-ciphertext weakness). The hostile partner below uses only the
public key and the service the protocol already offers it. Paillier, the default, returns
``m mod n``, which the sender already knows. SecureBoost, where OU is the default, never
returns a decryption to a partner (the guest only tells each host which of its shuffled
candidates won).
"""

from __future__ import annotations

import secrets
import warnings

import gmpy2
import numpy as np
import pytest

from coalition.crypto import he
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.engine.dag import parse_dag
from coalition.engine.policy import GrantTerms, PrivacyPolicy, check
from coalition.engine.validate import validate_dag
from coalition.protocols.linear.he.mask import decrypt_masked

SITES = {"guest:g": "bank", "host:h": "telco", "arbiter:a": "notary"}


def _keys(scheme: he.HEScheme) -> tuple[he.PublicKey, he.PrivateKey]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyWarning)
        return he.generate_keypair(scheme, 1024, allow_insecure=True)


def _forged(pk: he.PublicKey, m: int) -> he.EncryptedArray:
    """What a partner can send: ``g^m`` for an ``m`` of its choice (masked flag as required)."""
    if isinstance(pk, he.ou.OUPublicKey):
        c = gmpy2.powmod(pk.g, m, pk.n)
    else:
        c = (1 + m * pk.n) % pk.nsquare
    cts = np.empty(1, dtype=object)
    cts[0] = gmpy2.mpz(c)
    return he.from_ciphertexts(pk, cts, masked=True)


def test_hostile_partner_factors_an_ou_key_through_the_decryption_service() -> None:
    pk, _sk = keys = _keys("ou")
    m = (1 << (pk.plaintext_bits + 3)) + secrets.randbits(64)  # above p, below n
    (answer,) = decrypt_masked(keys[1], _forged(pk, m))
    p = gmpy2.gcd(m - answer, pk.n)
    assert 1 < p < pk.n and pk.n % (p * p) == 0  # the secret prime: the key is broken


def test_the_same_forgery_tells_nothing_under_paillier() -> None:
    pk, sk = _keys("paillier")
    m = (1 << (pk.plaintext_bits + 3)) + secrets.randbits(64)
    (answer,) = decrypt_masked(sk, _forged(pk, m))
    assert answer == m % int(pk.n)  # known to the sender already
    assert gmpy2.gcd(m - answer, pk.n) in (1, pk.n)


def _graph(scheme: str):
    return validate_dag(parse_dag({
        "version": 1, "name": "p", "parties": {"guest": ["g"], "host": ["h"], "arbiter": ["a"]},
        "tasks": {
            "read": {"component": "reader", "roles": ["guest", "host"],
                     "parameters": {"path": "x"}},
            "lr": {"component": "hetero_lr", "inputs": {"train_data": "read.data"},
                   "parameters": {"protocol": "he-arbiter", "he_scheme": scheme}}}}))


@pytest.mark.parametrize("owner", ["bank", "telco"])
def test_policy_refuses_ou_lr_without_the_owners_grant(owner: str) -> None:
    found = check(_graph("ou"), SITES, PrivacyPolicy(owner=owner, terms=GrantTerms()))
    assert [v.rule for v in found] == ["policy.ou_lr"]
    assert check(_graph("paillier"), SITES, PrivacyPolicy(owner=owner, terms=GrantTerms())) == []
    granted = PrivacyPolicy(owner=owner, terms=GrantTerms(allow_ou_lr=True))
    assert check(_graph("ou"), SITES, granted) == []


def test_the_key_holders_own_organisation_is_not_asked() -> None:
    assert check(_graph("ou"), SITES, PrivacyPolicy(owner="notary", terms=GrantTerms())) == []


def test_ou_allowance_combines_conservatively() -> None:
    assert not GrantTerms(allow_ou_lr=True).combine(GrantTerms()).allow_ou_lr
    assert GrantTerms(allow_ou_lr=True).within(GrantTerms()) is False
    assert GrantTerms.own_data().allow_ou_lr
