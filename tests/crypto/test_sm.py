"""SM2, SM3 and SM4 against the standards' published test vectors.

Sources of the vectors:

* SM3: GB/T 32905-2016 Annex A, examples 1 ("abc") and 2 ("abcd" × 16).
* SM4: GB/T 32907-2016 Annex A, example 1 (one block, key = plaintext).
* SM4-GCM: RFC 8998 Appendix A.1.
* SM2 signature: GB/T 32918.2-2016 Annex A (also draft-shen-sm2-ecdsa-02 §A.2): the 256-bit
  example curve, ID ``ALICE123@YAHOO.COM``, message ``message digest``, private key, nonce
  ``k``, ``Z_A``, ``e``, ``r`` and ``s``.
* SM2 recommended curve parameters: GB/T 32918.5-2017 (checked against OpenSSL's ``NID_sm2``).
"""

from __future__ import annotations

import pytest

from coalition.core.errors import CryptoError, InputError
from coalition.crypto.sm import SM2, Sm2Curve, Sm2SigningKey, Sm2VerifyKey, Sm4Gcm, sm3
from coalition.crypto.sm.hash_to_curve import SSWU_Z, SUITE_ID, hash_to_curve, map_to_curve
from coalition.crypto.sm.signature import user_digest
from coalition.crypto.sm.sm3 import expand_message_xmd_sm3, hkdf_sm3, hmac_sm3


def test_sm3_standard_vectors() -> None:
    assert sm3(b"abc").hex() == ("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    assert sm3(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )
    assert sm3(b"ab", b"c") == sm3(b"abc")


def test_hmac_and_hkdf_use_sm3() -> None:
    assert len(hmac_sm3(b"k" * 32, b"m")) == 32
    assert hmac_sm3(b"k" * 32, b"m") != hmac_sm3(b"j" * 32, b"m")
    first = hkdf_sm3(b"secret", length=48, info=b"a")
    assert len(first) == 48 and first != hkdf_sm3(b"secret", length=48, info=b"b")


def test_sm4_block_standard_vector() -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert encryptor.update(key).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gcm_rfc8998_vector_and_tampering() -> None:
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    expected = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        "83DE3541E4C2B58177E065A9BF7B62EC"
    )
    aead = Sm4Gcm(key)
    assert aead.encrypt(nonce, plaintext, aad) == expected
    assert aead.decrypt(nonce, expected, aad) == plaintext
    damaged = bytearray(expected)
    damaged[70] ^= 1
    with pytest.raises(CryptoError):
        aead.decrypt(nonce, bytes(damaged), aad)
    with pytest.raises(CryptoError):
        aead.decrypt(nonce, expected, aad + b"x")
    with pytest.raises(InputError):
        Sm4Gcm(b"short")


# GB/T 32918.2-2016 Annex A: the example curve over a 256-bit prime field.
EXAMPLE_CURVE = Sm2Curve.from_params(
    p=0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    a=0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    b=0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    gx=0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
    gy=0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
    n=0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7,
)
ALICE = b"ALICE123@YAHOO.COM"
MESSAGE = b"message digest"


def test_sm2_signature_standard_vector() -> None:
    key = Sm2SigningKey(
        0x128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263, EXAMPLE_CURVE
    )
    assert EXAMPLE_CURVE.affine(key.verify_key.encoded) == (
        0x0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A,
        0x7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857,
    )
    z_a = user_digest(key.verify_key.encoded, ALICE, EXAMPLE_CURVE)
    assert z_a.hex().upper() == "F4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A"
    assert key.verify_key.digest(MESSAGE, ALICE) == (
        0xB524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76
    )
    nonce = 0x6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F
    signature = key._sign_with_nonce(MESSAGE, nonce, ALICE)
    assert signature is not None
    assert signature.hex().upper() == (
        "40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1"
        "6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7"
    )
    key.verify_key.verify(signature, MESSAGE, ALICE)
    with pytest.raises(CryptoError):
        key.verify_key.verify(signature, MESSAGE, b"BOB")  # Z_A binds the identity


def test_sm2_sign_verify_on_the_recommended_curve() -> None:
    key = Sm2SigningKey.generate()
    signature = key.sign(b"model part")
    verify = Sm2VerifyKey(key.verify_key.encoded)
    verify.verify(signature, b"model part")
    assert Sm2SigningKey.from_bytes(key.to_bytes()).verify_key.encoded == verify.encoded
    for bad in (signature[:-1] + bytes([signature[-1] ^ 1]), bytes(64), signature[:10]):
        with pytest.raises(CryptoError):
            verify.verify(bad, b"model part")
    with pytest.raises(CryptoError):
        verify.verify(signature, b"model parts")


def test_sm2_curve_matches_openssl_and_rejects_bad_points() -> None:
    assert SM2.scalarmult_base(1) == SM2.generator
    a, b = SM2.random_scalar(), SM2.random_scalar()
    shared = SM2.scalarmult(a, SM2.scalarmult_base(b))
    assert shared == SM2.scalarmult(b, SM2.scalarmult_base(a))
    assert SM2.scalarmult_base(a * b % SM2.n) == shared
    assert SM2.add(SM2.generator, SM2.generator) == SM2.scalarmult_base(2)
    off_curve = b"\x02" + (5).to_bytes(32, "big")
    for bad in (b"\x00", off_curve, b"\x05" + bytes(32), shared[:-1]):
        assert not SM2.is_valid_point(bad)
        with pytest.raises(CryptoError):
            SM2.scalarmult(a, bad)
    with pytest.raises(InputError):
        SM2.scalarmult(SM2.n, SM2.generator)


def _has_root(constant: int, p: int, a: int) -> bool:
    """Whether ``x^3 + a x + constant`` has a root mod ``p`` (gcd with ``x^p - x``)."""

    def mulmod(u: list[int], v: list[int]) -> list[int]:
        out = [0] * (len(u) + len(v) - 1)
        for i, x in enumerate(u):
            for j, y in enumerate(v):
                out[i + j] = (out[i + j] + x * y) % p
        modulus = [constant, a, 0]
        for degree in range(len(out) - 1, 2, -1):
            c = out[degree]
            for k in range(3):
                out[degree - 3 + k] = (out[degree - 3 + k] - c * modulus[k]) % p
        return ([*out, 0, 0, 0])[:3]

    power, base, e = [1, 0, 0], [0, 1, 0], p
    while e:
        if e & 1:
            power = mulmod(power, base)
        base, e = mulmod(base, base), e >> 1
    f = [power[0], (power[1] - 1) % p, power[2]]
    g = [constant, a, 0, 1]

    def trim(poly: list[int]) -> list[int]:
        while poly and poly[-1] == 0:
            poly = poly[:-1]
        return poly

    left, right = trim(g), trim(f)
    while right:
        inverse = pow(right[-1], -1, p)
        while len(left) >= len(right) and left:
            c, shift = left[-1] * inverse % p, len(left) - len(right)
            for i, coefficient in enumerate(right):
                left[i + shift] = (left[i + shift] - c * coefficient) % p
            left = trim(left)
        left, right = right, left
    return len(left) > 1


def test_sswu_z_is_rfc9380_find_z_output() -> None:
    """Z = -9 is the first candidate (1, -1, 2, -2, ...) meeting RFC 9380 Appendix H.2."""
    p, a, b = SM2.p, SM2.a, SM2.b

    def square(x: int) -> bool:
        return x % p == 0 or pow(x, (p - 1) // 2, p) == 1

    def good(z: int) -> bool:
        if square(z) or z == p - 1 or _has_root((b - z) % p, p, a):
            return False
        x = b * pow(z * a, -1, p) % p
        return square(x**3 + a * x + b)

    candidates = [c for k in range(1, 10) for c in (k, p - k)]
    first = next(c for c in candidates if good(c))
    assert first == SSWU_Z % p


def test_hash_to_curve_lands_on_curve_and_separates_domains() -> None:
    assert SUITE_ID == b"SM2_XMD:SM3_SSWU_RO_"
    dst = b"COALITION-TEST-" + SUITE_ID
    one = hash_to_curve(b"alice", dst)
    assert SM2.is_valid_point(one) and one == hash_to_curve(b"alice", dst)
    assert one != hash_to_curve(b"bob", dst)
    assert one != hash_to_curve(b"alice", dst + b"2")
    for u in (0, 1, 2, SM2.p - 1, 12345678901234567890):
        x, y = map_to_curve(u)
        assert (y * y - (x**3 + SM2.a * x + SM2.b)) % SM2.p == 0
        assert (y & 1) == (u & 1)
    assert len(expand_message_xmd_sm3(b"", b"D", 96)) == 96
    with pytest.raises(InputError):
        expand_message_xmd_sm3(b"", b"D" * 256, 32)


def test_hash_to_curve_known_answers_of_the_suite_defined_here() -> None:
    """Pinned outputs of ``SM2_XMD:SM3_SSWU_RO_`` (computed with the libcrypto point addition
    before the GMP-only path replaced it; both give these points)."""
    dst = b"QUUX-V01-CS02-with-SM2_XMD:SM3_SSWU_RO_"
    expected = {
        b"": "0380048bf6454de460598966bc3bc9a3213e8776668817d85cf447eda370991a41",
        b"abc": "037cf8871dffcb584997d9b27cbc1b12308eec4544f38688f7b8c53531afb9fdcd",
        b"alice": "028b570cf258482932ee9d4d0405e7a8f210302e752b298a01a3f7cca909f627fa",
    }
    for message, point in expected.items():
        assert hash_to_curve(message, dst).hex() == point
        assert SM2.is_valid_point(bytes.fromhex(point))


def test_batched_scalar_multiplication_equals_one_call_per_point() -> None:
    from coalition.core.errors import CryptoError

    scalar = SM2.random_scalar()
    points = [SM2.scalarmult_base(SM2.random_scalar()) for _ in range(6)]
    batch = SM2.scalarmult_many(scalar, points)
    assert batch == [SM2.scalarmult(scalar, p) for p in points]
    x, y = SM2.affine(points[0])  # uncompressed input gives the same point
    raw = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    assert SM2.scalarmult_many(scalar, [raw]) == batch[:1]
    off_curve = b"\x04" + x.to_bytes(32, "big") + ((y + 1) % SM2.p).to_bytes(32, "big")
    for bad in (off_curve, b"\x02" + SM2.p.to_bytes(32, "big"), points[1][:-1],
                b"\x05" + points[1][1:]):
        with pytest.raises(CryptoError) as err:
            SM2.scalarmult_many(scalar, [points[0], bad])
        assert err.value.details == {"index": 1}
