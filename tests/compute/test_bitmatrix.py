import numpy as np
import pytest

from coalition.compute.bitmatrix import transpose_bits
from coalition.core.errors import InputError


def _bits(a: np.ndarray) -> np.ndarray:
    return np.unpackbits(a.view(np.uint8), axis=1, bitorder="little")


def _random(rng, rows, words):
    return rng.integers(0, 2**64, size=(rows, words), dtype=np.uint64, endpoint=False)


@pytest.mark.parametrize(("rows", "words"), [(64, 1), (64, 3), (128, 2), (512, 5), (192, 17)])
def test_matches_bitwise_reference_and_is_an_involution(rows, words):
    rng = np.random.default_rng(rows * 100 + words)
    a = _random(rng, rows, words)
    before = a.copy()
    t = transpose_bits(a)
    assert t.shape == (words * 64, rows // 64)
    assert np.array_equal(_bits(t), _bits(a).T)
    assert np.array_equal(a, before)  # input untouched, even when a view would be possible
    assert np.array_equal(transpose_bits(t), a)


def test_many_groups_cover_every_block():
    rng = np.random.default_rng(1)
    a = _random(rng, 512, 300)  # several cache groups
    assert np.array_equal(_bits(transpose_bits(a)), _bits(a).T)


def test_group_major_layout_holds_the_same_words():
    rng = np.random.default_rng(2)
    a = _random(rng, 512, 7)
    flat = transpose_bits(a)
    grouped = transpose_bits(a, group=2)
    assert grouped.shape == (4, 7 * 64, 2)
    assert np.array_equal(grouped, flat.reshape(-1, 4, 2).transpose(1, 0, 2))


def test_single_bits_land_where_expected():
    a = np.zeros((128, 2), dtype=np.uint64)
    a[70, 1] = np.uint64(1) << np.uint64(5)  # row 70, column 64 + 5
    t = transpose_bits(a)
    assert np.flatnonzero(t.ravel()).tolist() == [69 * 2 + 1]
    assert t[69, 1] == np.uint64(1) << np.uint64(6)  # row 69, column 64 + 6


def test_empty_and_bad_shapes():
    assert transpose_bits(np.zeros((64, 0), dtype=np.uint64)).shape == (0, 1)
    with pytest.raises(InputError):
        transpose_bits(np.zeros((63, 1), dtype=np.uint64))
    with pytest.raises(InputError):
        transpose_bits(np.zeros((64, 1), dtype=np.uint32))
    with pytest.raises(InputError):
        transpose_bits(np.zeros((192, 1), dtype=np.uint64), group=2)
