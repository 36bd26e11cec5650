"""RFC 3161 client: request shape, and verification of a token produced offline by OpenSSL."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from asn1crypto import tsp

from coalition.core.errors import CryptoError
from coalition.node.ledger.timestamp import build_request, verify_response

DATA = Path(__file__).resolve().parent.parent / "data" / "rfc3161"
DIGEST = hashlib.sha256(b"coalition checkpoint").digest()
NONCE = 424242


def test_request_is_a_der_timestampreq_for_our_digest() -> None:
    der, nonce = build_request(DIGEST)
    req = tsp.TimeStampReq.load(der)
    assert req["message_imprint"]["hashed_message"].native == DIGEST
    assert req["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert req["nonce"].native == nonce and req["cert_req"].native is True
    assert build_request(DIGEST, nonce=NONCE)[1] == NONCE
    with pytest.raises(CryptoError):
        build_request(b"short")


def test_openssl_token_verifies_and_tampering_fails() -> None:
    reply = (DATA / "reply.tsr").read_bytes()
    cert = (DATA / "tsa.crt").read_bytes()
    token = verify_response(reply, DIGEST, NONCE, cert)
    assert token.gen_time.year >= 2026 and token.token in reply
    with pytest.raises(CryptoError):
        verify_response(reply, hashlib.sha256(b"other").digest(), NONCE, cert)
    with pytest.raises(CryptoError):
        verify_response(reply, DIGEST, NONCE + 1, cert)
    with pytest.raises(CryptoError):
        verify_response(reply, DIGEST, NONCE, (DATA / "other.crt").read_bytes())
    flipped = bytearray(reply)
    flipped[-5] ^= 0x01  # inside the ECDSA signature
    with pytest.raises(CryptoError):
        verify_response(bytes(flipped), DIGEST, NONCE, cert)
    with pytest.raises(CryptoError):
        verify_response(b"\x30\x03garbage", DIGEST, NONCE, cert)
