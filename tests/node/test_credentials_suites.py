"""Sealed database passwords under both crypto suites (``node/data/credentials.py``, issue 25):
ChaCha20-Poly1305 under ``standard``, SM4-GCM under ``sm``; either opens on any node holding the
key, a suite switch reseals, and a URL edited after sealing fails under both."""

from __future__ import annotations

import base64
import secrets

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from coalition.core.errors import CryptoError
from coalition.crypto.sm.sm3 import hkdf_sm3
from coalition.crypto.sm.sm4 import Sm4Gcm
from coalition.node.data import credentials

URL = "postgresql://alice:s3cret-pw@db.bank.example:5432/risk?sslmode=require"


@pytest.fixture
def key() -> bytes:
    k = secrets.token_bytes(32)
    credentials.register_key(k)
    return k


def _token(location: str) -> str:
    return str(sa.make_url(location).password)


@pytest.mark.parametrize(("suite", "prefix"), [("standard", credentials.PREFIX),
                                               ("sm", credentials.SM_PREFIX)])
def test_sealed_under_each_suite_opens_to_the_password(key: bytes, suite: str,
                                                       prefix: str) -> None:
    sealed = credentials.seal_url(key, URL, suite)
    assert "s3cret-pw" not in sealed
    assert _token(sealed).startswith(prefix)
    assert credentials.is_sealed(sealed) and credentials.is_sealed(sealed, suite)
    assert sa.make_url(credentials.open_url(sealed)) == sa.make_url(URL)


def test_sm_token_is_sm4_gcm_under_an_hkdf_sm3_key(key: bytes) -> None:
    """Recomputed from the definition: SM4-GCM, key HKDF-SM3(file key), the URL without its
    password as associated data."""
    sealed = credentials.seal_url(key, URL, "sm")
    raw = base64.urlsafe_b64decode(_token(sealed).split(".", 2)[2])
    sm4_key = hkdf_sm3(key, length=16, info=b"coalition/credentials/sm4-gcm")
    aad = sa.make_url(URL)._replace(password=None).render_as_string(hide_password=False).encode()
    assert Sm4Gcm(sm4_key).decrypt(raw[:12], raw[12:], aad) == b"s3cret-pw"
    with pytest.raises(InvalidTag):  # not ChaCha20-Poly1305 under the file key
        ChaCha20Poly1305(key).decrypt(raw[:12], raw[12:], aad)


@pytest.mark.parametrize(("before", "after"), [("standard", "sm"), ("sm", "standard")])
def test_a_suite_switch_reseals_under_the_new_suite(key: bytes, before: str, after: str) -> None:
    old = credentials.seal_url(key, URL, before)
    assert not credentials.is_sealed(old, after)
    new = credentials.seal_url(key, old, after)
    assert credentials.is_sealed(new, after) and new != old
    assert sa.make_url(credentials.open_url(new)) == sa.make_url(URL)
    assert credentials.seal_url(key, new, after) == new  # already sealed: unchanged


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_a_repointed_url_fails_typed_under_both_suites(key: bytes, suite: str) -> None:
    sealed = sa.make_url(credentials.seal_url(key, URL, suite))
    repointed = sealed._replace(host="evil.example").render_as_string(hide_password=False)
    with pytest.raises(CryptoError, match="does not match"):
        credentials.open_url(repointed)


def test_a_key_this_node_does_not_hold_is_refused_and_the_switch_keeps_the_row() -> None:
    foreign = secrets.token_bytes(32)  # never registered here
    mine = secrets.token_bytes(32)
    credentials.register_key(mine)
    sealed = credentials.seal_url(foreign, URL, "standard")
    with pytest.raises(CryptoError, match="no credentials key"):
        credentials.seal_url(mine, sealed, "sm")
