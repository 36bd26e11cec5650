"""``XtDotStream``: ``X.T @ [[d]]`` fed by row segments equals ``xt_dot`` of the whole array.

The pipelined HE-LR batch (``protocols/linear/he/common.segments``) relies on this being exact:
the same ciphertexts, both schemes, inline and over a real process pool (where each segment's
products start on ``submit`` while the caller carries on).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pytest

from coalition.compute import ProcessExecutor, chunk_slices
from coalition.core.errors import InputError
from coalition.crypto import he
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.crypto.paillier.stream import XtDotStream


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessExecutor]:
    ex = ProcessExecutor(2)
    yield ex
    ex.shutdown()


@pytest.fixture(scope="module", params=he.HE_SCHEMES)
def keys(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyWarning)
        return he.generate_keypair(request.param, 1024, allow_insecure=True)


@pytest.mark.parametrize(("segments", "pooled"), [(1, True), (3, True), (4, False)])
def test_segments_give_the_same_ciphertexts_as_one_xt_dot(keys, pool, segments, pooled):
    pk, sk = keys
    rng = np.random.default_rng(segments)
    d, X = rng.normal(size=700), rng.normal(size=(700, 5))
    X[:, 3] = 0.0  # an all-zero column comes back as a fresh encryption of 0
    enc = pk.encrypt(d)
    whole = enc.xt_dot(X, precision=16)
    stream = XtDotStream(X, segments=segments, precision=16, executor=pool if pooled else None)
    parts = chunk_slices(len(d), segments)
    for sl in reversed(parts):  # any arrival order
        stream.add(sl.start, enc[sl])
    out = stream.result()
    assert out.shape == whole.shape and out.scale_bits == whole.scale_bits and out.is_masked
    live = [0, 1, 2, 4]
    assert out.ciphertexts[live].tolist() == whole.ciphertexts[live].tolist()
    np.testing.assert_array_equal(sk.decrypt(out), sk.decrypt(whole))
    np.testing.assert_allclose(sk.decrypt(out), X.T @ d, atol=1e-3)


def test_rows_must_be_added_exactly_once(keys):
    pk, _ = keys
    enc = pk.encrypt(np.arange(10.0))
    stream = XtDotStream(np.ones((10, 2)), segments=2)
    stream.add(0, enc[:6])
    with pytest.raises(InputError):
        stream.add(4, enc[4:])  # overlaps rows 4, 5
    with pytest.raises(InputError):
        stream.add(8, enc[:6])  # runs past the last row
    with pytest.raises(InputError):
        stream.result()  # rows 6..9 missing
    stream.add(6, enc[6:])
    assert stream.result().shape == (2,)


class _MapOnly:
    """An executor without ``submit`` (as Ray's): the stream maps each segment's chunks."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    @property
    def workers(self) -> int:
        return 4

    def map(self, fn, items):
        self.calls.append(len(items))
        return [fn(x) for x in items]


def test_an_executor_without_submit_still_gets_each_segments_chunks(keys):
    pk, sk = keys
    rng = np.random.default_rng(9)
    d, X = rng.normal(size=1200), rng.normal(size=(1200, 3))
    enc = pk.encrypt(d)
    ex = _MapOnly()
    stream = XtDotStream(X, segments=2, precision=16, executor=ex)
    for sl in chunk_slices(len(d), 2):
        stream.add(sl.start, enc[sl])
    assert ex.calls == [2, 2]  # 4 workers / 2 segments: two chunks of 300 rows each
    np.testing.assert_array_equal(sk.decrypt(stream.result()),
                                  sk.decrypt(enc.xt_dot(X, precision=16)))
