import numpy as np
import pytest

from coalition.compute import ProcessExecutor
from coalition.core.errors import CryptoError, InputError
from coalition.crypto import group

DST = b"test-dst"


def test_hash_to_group_is_deterministic_valid_and_domain_separated():
    p = group.hash_to_group(b"alice", DST)
    assert p == group.hash_to_group(b"alice", DST)
    assert group.is_valid_point(p)
    assert p != group.hash_to_group(b"alice", b"other-dst")
    assert p != group.hash_to_group(b"bob", DST)


def test_commutativity():
    a, b = group.random_scalar(), group.random_scalar()
    h = group.hash_to_group(b"x", DST)
    assert group.scalarmult(a, group.scalarmult(b, h)) == group.scalarmult(b, group.scalarmult(a, h))


def test_inverse_undoes_multiplication():
    r = group.random_scalar()
    h = group.hash_to_group(b"x", DST)
    assert group.scalarmult(group.scalar_invert(r), group.scalarmult(r, h)) == h
    assert group.scalarmult(group.scalar_mul(r, group.scalar_invert(r)), h) == h


def test_expand_message_xmd_rfc9380_vector():
    # RFC 9380 Appendix K.3, expand_message_xmd(SHA-512), msg="", len_in_bytes=0x20
    dst = b"QUUX-V01-CS02-with-expander-SHA512-256"
    out = group.expand_message_xmd(b"", dst, 0x20)
    assert out.hex() == "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"


def test_small_order_and_garbage_points_are_refused():
    identity = bytes([1]) + bytes(31)
    assert not group.is_valid_point(identity)
    assert not group.is_valid_point(b"\xff" * 32)
    with pytest.raises(CryptoError):
        group.scalarmult(group.random_scalar(), identity)
    with pytest.raises(CryptoError):
        group.validate_points(np.zeros((2, 32), dtype=np.uint8))


def test_scalar_from_bytes_range():
    with pytest.raises(CryptoError):
        group.scalar_from_bytes(bytes(32))
    with pytest.raises(CryptoError):
        group.scalar_from_bytes(group.ORDER.to_bytes(32, "little"))
    s = group.random_scalar()
    assert group.scalar_from_bytes(s) == s


def test_batch_matches_single_and_accepts_lists():
    s = group.random_scalar()
    msgs = [str(i).encode() for i in range(50)]
    pts = group.hash_to_group_batch(msgs, DST)
    assert pts.shape == (50, 32) and pts.dtype == np.uint8
    assert bytes(pts[7]) == group.hash_to_group(msgs[7], DST)
    out = group.scalarmult_batch(s, [bytes(p) for p in pts])
    assert bytes(out[3]) == group.scalarmult(s, bytes(pts[3]))
    assert group.scalarmult_batch(s, np.zeros((0, 32), dtype=np.uint8)).shape == (0, 32)
    with pytest.raises(InputError):
        group.as_points(np.zeros((3, 31), dtype=np.uint8))


def test_batch_over_process_executor():
    ex = ProcessExecutor(2)
    try:
        msgs = [str(i).encode() for i in range(4500)]
        s = group.random_scalar()
        pts = group.hash_to_group_batch(msgs, DST, executor=ex)
        out = group.scalarmult_batch(s, pts, executor=ex)
        assert out.shape == (4500, 32)
        assert bytes(out[4321]) == group.scalarmult(s, group.hash_to_group(msgs[4321], DST))
    finally:
        ex.shutdown()
