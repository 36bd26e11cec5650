"""The Ray executor on a local Ray (one per module: Ray takes seconds to start)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from functools import partial

import numpy as np
import pytest

from coalition.compute import ComputeSpec, ProcessExecutor, RayExecutor, make_executor
from coalition.core.errors import ComputeError, ConfigError
from coalition.crypto.ecdh import CommutativeKey
from coalition.crypto.paillier import generate_keypair

# Ray's head waits 30 s by default for its GCS server to bind a port; on a two-core machine
# running the rest of the suite in parallel that start can take longer (a timed-out start also
# leaves child processes behind for later tests to trip over), so this module allows 180 s.
os.environ.setdefault("RAY_gcs_server_port_wait_time_s", "180")

# Ray workers import a function by its module, and test modules are not importable there:
# library functions only (coalition's own, as in the Paillier test, or the standard library).
_square = partial(pow, exp=2)


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[RayExecutor]:
    executor = RayExecutor(2, chunks_per_worker=2, object_store_mb=128)
    yield executor
    executor.shutdown()


def test_map_is_in_order_and_batches_many_items(ray_executor: RayExecutor) -> None:
    items = list(range(101))
    assert ray_executor.map(_square, items) == [x * x for x in items]
    assert ray_executor.workers == 2
    assert ray_executor.map(_square, [7]) == [49]  # one item: inline
    assert ray_executor.map(_square, []) == []


def test_a_failing_item_raises_its_own_error_type(ray_executor: RayExecutor) -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        ray_executor.map(int, ["1", "2", "three", "4"])


def test_paillier_xt_dot_on_ray_equals_the_process_pool(ray_executor: RayExecutor) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 1024-bit test key warns that it is insecure
        pk, sk = generate_keypair(1024, allow_insecure=True)
    rng = np.random.default_rng(7)
    d, X = rng.normal(size=600), rng.normal(size=(600, 3))
    enc = pk.encrypt(d)
    on_ray = sk.decrypt(enc.xt_dot(X, executor=ray_executor))
    inline = sk.decrypt(enc.xt_dot(X, executor=ProcessExecutor(1)))
    assert np.array_equal(on_ray, inline)
    assert np.allclose(on_ray, X.T @ d, atol=1e-4)


def test_spec_builds_the_executor_it_names(ray_executor: RayExecutor) -> None:
    joined = make_executor(ComputeSpec(backend="ray", workers=2))
    assert isinstance(joined, RayExecutor)
    assert joined.map(_square, [1, 2, 3]) == [1, 4, 9]  # joins the Ray already running
    joined.shutdown()  # did not start it: leaves it running for the module's executor
    assert ray_executor.map(_square, [2, 3]) == [4, 9]
    local = make_executor(ComputeSpec())
    assert isinstance(local, ProcessExecutor) and local.workers == 1
    with pytest.raises(ConfigError):
        RayExecutor(0)


def test_psi_ecdh_batches_on_ray_equal_the_inline_result(ray_executor: RayExecutor) -> None:
    ids = [f"customer-{i}".encode() for i in range(6000)]  # 2 chunks of >= 2048
    a, b = CommutativeKey.generate(), CommutativeKey.generate()
    on_ray = b.encrypt(a.hash_encrypt(ids, executor=ray_executor), executor=ray_executor)
    inline = a.encrypt(b.hash_encrypt(ids))  # the other order: commutative
    assert np.array_equal(on_ray, inline)


class _FlakyRay:
    """Stands in for the ray module's init/shutdown: fails the first ``failures`` starts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.inits = 0
        self.shutdowns = 0

    def init(self, **kwargs: object) -> None:
        self.inits += 1
        if self.inits <= self.failures:
            raise RuntimeError("Timed out waiting for file gcs_server_port")

    def shutdown(self) -> None:
        self.shutdowns += 1


def test_a_failed_local_start_is_cleaned_up_and_retried_once() -> None:
    from coalition.compute.ray_executor import _init_with_one_retry

    flaky = _FlakyRay(failures=1)
    _init_with_one_retry(flaky, {})
    assert (flaky.inits, flaky.shutdowns) == (2, 1)

    broken = _FlakyRay(failures=2)
    with pytest.raises(ComputeError, match="Ray did not start") as caught:
        _init_with_one_retry(broken, {})
    assert caught.value.code == "compute.unavailable"
    assert (broken.inits, broken.shutdowns) == (2, 2)
