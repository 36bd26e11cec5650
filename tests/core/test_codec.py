import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from coalition.core import CodecError, codec


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    | st.binary(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
))
def test_plain_values_round_trip(value):
    assert codec.decode(codec.encode(value)) == value


@given(hnp.arrays(dtype=st.sampled_from([np.int8, np.int64, np.uint64, np.float32, np.float64,
                                          np.bool_, np.complex128]),
                  shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=5)))
def test_arrays_round_trip_with_dtype_and_shape(arr):
    out = codec.decode(codec.encode(arr))
    assert out.dtype == arr.dtype and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)
    assert out.flags.writeable


def test_big_integers_and_tuples():
    value = {"n": 2**2048 + 12345, "neg": -(2**100), 7: (1, 2)}
    assert codec.decode(codec.encode(value)) == {"n": 2**2048 + 12345, "neg": -(2**100),
                                                 7: [1, 2]}


def test_numpy_scalars_become_python_scalars():
    assert codec.decode(codec.encode([np.int32(3), np.float64(0.5)])) == [3, 0.5]


@pytest.mark.parametrize("bad", [object(), {1, 2}, np.array([object()], dtype=object),
                                 np.zeros(2, dtype=[("a", "i4")]), {(1, 2): 3}])
def test_disallowed_values_are_refused(bad):
    with pytest.raises(CodecError):
        codec.encode(bad)


def test_subclass_of_allowed_type_is_refused():
    class Sneaky(dict):  # type: ignore[type-arg]
        pass

    with pytest.raises(CodecError):
        codec.encode(Sneaky(a=1))


def test_oversized_payloads_are_refused_both_ways():
    payload = codec.encode(b"x" * 1000)
    with pytest.raises(CodecError, match="size limit"):
        codec.encode(b"x" * 1000, max_bytes=100)
    with pytest.raises(CodecError, match="size limit"):
        codec.decode(payload, max_bytes=100)


def test_unknown_extension_and_corrupt_payloads_are_refused():
    import msgpack

    with pytest.raises(CodecError, match="unknown extension"):
        codec.decode(msgpack.packb(msgpack.ExtType(99, b"abc")))
    with pytest.raises(CodecError):
        codec.decode(b"\xc1")
    # array header claiming more data than present
    header = msgpack.packb(["<f8", [10]])
    with pytest.raises(CodecError, match="does not match"):
        codec.decode(msgpack.packb(msgpack.ExtType(1, header + b"\x00" * 8)))


def test_registered_extension_round_trip():
    class Point:
        def __init__(self, x: int, y: int) -> None:
            self.x, self.y = x, y

    codec.register_extension(120, Point, lambda p: [p.x, p.y], lambda v: Point(*v))
    out = codec.decode(codec.encode({"p": Point(1, 2**80)}))
    assert (out["p"].x, out["p"].y) == (1, 2**80)
    with pytest.raises(CodecError, match="already registered"):
        codec.register_extension(120, dict, lambda p: p, lambda v: v)
