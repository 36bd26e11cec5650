"""Pairwise prediction masks under both crypto suites (issue 25): known answers pinned, the
``sm`` derivation recomputed from its definition (SM2 ECDH x-coordinate, HKDF-SM3, SM4-CTR,
HMAC-SM3), and keys of the other suite refused."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from coalition.core.errors import CryptoError
from coalition.crypto.sm.curve import SM2
from coalition.protocols.linear.masking import MaskKey, id_masks, mac, stream_masks

CONTEXT = b"coalition/test/kat"
IDS = ["7", "alice"]


def _words(raw: bytes) -> list[int]:
    return [int(x) for x in np.frombuffer(raw, dtype="<u8")]


def test_standard_masks_are_pinned_to_the_bytes_before_suites():
    """Values computed with the pre-suite ``masking.py`` (X25519, HKDF-SHA256, ChaCha20,
    HMAC-SHA256): ``standard`` must never change them."""
    a, b = MaskKey("standard", bytes(range(32))), MaskKey("standard", bytes(range(32, 64)))
    assert a.public.hex() == "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f"
    key = a.agree(b.public, CONTEXT)
    assert key == b.agree(a.public, CONTEXT)
    assert key.hex() == "3a3d5bcab594e3586e859bb2a008e6aeebc6d0a06f2088c05ff4c342010f1b6a"
    assert stream_masks(key, 3).tolist() == [
        0xb26610c5b5b081d5, 0xfcee781c930be4e6, 0x3cb35d7ad9c945e]
    assert id_masks(key, IDS).tolist() == [0x53d719a11336f9f9, 0xf8eb7e36c0915e1a]


def test_sm_masks_known_answers():
    a, b = MaskKey("sm", bytes(range(48))), MaskKey("sm", bytes(range(48, 96)))
    assert len(a.public) == 33
    assert a.public.hex() == ("02087171a97a082d2dfe3fd46be65209d36fb4ae62bdc68046c3063276bb30"
                              "bd12")
    key = a.agree(b.public, CONTEXT)
    assert key == b.agree(a.public, CONTEXT)
    assert key.hex() == "63f21f1f883c066ca841031443b701a2ec5ec1c43a79a50cf2c2f8988b0c5793"
    assert stream_masks(key, 3, "sm").tolist() == [
        0xc3b0e4276f2b48f5, 0xfc579262400e43d0, 0xd65790c3199c646d]
    assert id_masks(key, IDS, "sm").tolist() == [0x937ee377eeba7aa7, 0xa44a5c4585f2adff]


def test_sm_derivation_follows_its_definition():
    """Recomputed another way: the shared point as ``[d_a·d_b]G``, HKDF-SM3 and HMAC-SM3
    through ``cryptography``'s generic classes, the SM4-CTR keystream with an explicit counter
    block ``key[16:]``."""
    sa, sb = bytes(range(48)), bytes(range(48, 96))
    da, db = (int.from_bytes(s, "big") % (SM2.n - 1) + 1 for s in (sa, sb))
    x, _ = SM2.affine(SM2.scalarmult_base(da * db % SM2.n))
    expected = HKDF(algorithm=hashes.SM3(), length=32, salt=b"coalition/linear/mask/v1",
                    info=CONTEXT).derive(x.to_bytes(32, "big"))
    key = MaskKey("sm", sa).agree(MaskKey("sm", sb).public, CONTEXT)
    assert key == expected
    enc = Cipher(algorithms.SM4(key[:16]), modes.CTR(key[16:])).encryptor()
    assert stream_masks(key, 5, "sm").tolist() == _words(enc.update(bytes(40)))
    for i, value in zip(IDS, id_masks(key, IDS, "sm").tolist(), strict=True):
        h = hmac.HMAC(key, hashes.SM3())
        h.update(i.encode())
        digest = h.finalize()
        assert mac(key, i.encode(), "sm") == digest
        assert value == _words(digest[:8])[0]
    assert mac(key, b"m", "sm") != mac(key, b"m", "standard")


def test_fresh_keys_agree_and_differ_per_run():
    for suite in ("standard", "sm"):
        a, b, c = MaskKey(suite), MaskKey(suite), MaskKey(suite)
        assert a.agree(b.public, CONTEXT) == b.agree(a.public, CONTEXT)
        assert a.agree(b.public, CONTEXT) != a.agree(c.public, CONTEXT)
        assert a.agree(b.public, CONTEXT) != a.agree(b.public, CONTEXT + b"x")


def test_a_key_of_the_other_suite_is_refused():
    std, sm = MaskKey("standard"), MaskKey("sm")
    with pytest.raises(CryptoError):
        sm.agree(std.public, CONTEXT)
    with pytest.raises(CryptoError):
        std.agree(sm.public, CONTEXT)
    with pytest.raises(CryptoError):  # 33 bytes, but no point encoding
        sm.agree(b"\x05" + bytes(32), CONTEXT)
    with pytest.raises(CryptoError):
        MaskKey("sm", bytes(32))  # too few secret bytes to reduce without bias
