"""The secure exponential of the SS variant (issue 24): two parties on the in-memory hub match
numpy's exp within the documented bound over the input range; outside it the result is
garbage that SS Poisson's deviance guard flags (the typed error itself: test_ss_poisson)."""

import secrets

import numpy as np
import pytest

from coalition.core import Party
from coalition.protocols.linear.fixedpoint import decode, encode
from coalition.protocols.linear.ss.engine import ring_value
from coalition.protocols.linear.ss.exp import (
    EXP_HIGH,
    EXP_LOW,
    EXP_SQUARINGS,
    exp_error_bound,
    precisions,
    secure_exp,
)
from coalition.protocols.linear.ss.poisson import DevianceReference
from coalition.protocols.linear.ss.spec import OPEN_EXP
from coalition.testing import run_parties

P0, P1 = Party.guest(), Party.host("h0")
F = 14


def uniform(shape):
    return np.frombuffer(secrets.token_bytes(8 * int(np.prod(shape))),
                         dtype=np.uint64).reshape(shape).copy()


def shared_exp(x):
    """Both parties run :func:`secure_exp` on shares of ``x``; the test deals the pairs."""
    n = len(x)
    with np.errstate(over="ignore"):
        s1 = uniform((n,))
        s0 = encode(x, F) - s1
        a = [uniform((n,)) for _ in range(EXP_SQUARINGS)]
        a0 = [uniform((n,)) for _ in range(EXP_SQUARINGS)]
        c0 = [uniform((n,)) for _ in range(EXP_SQUARINGS)]
        pairs = {0: [(ak - bk, ck) for ak, bk, ck in zip(a, a0, c0, strict=True)],
                 1: [(bk, ak * ak - ck) for ak, bk, ck in zip(a, a0, c0, strict=True)]}

    def role(ctx, index, share):
        peer = P1 if index == 0 else P0
        steps = dict(ctx.sub("exp").iter(EXP_SQUARINGS))

        def open_masked(k, mine):
            steps[k].send(peer, OPEN_EXP, mine)
            with np.errstate(over="ignore"):
                return mine + ring_value(steps[k].recv(peer, OPEN_EXP), mine.shape)

        return secure_exp(share, pairs[index], open_masked, index, F)

    out = run_parties({P0: lambda c: role(c, 0, s0), P1: lambda c: role(c, 1, s1)}, timeout=60)
    with np.errstate(over="ignore"):
        return decode(out[P0] + out[P1], F)


def test_matches_numpy_within_the_documented_bound_over_the_range():
    x = np.concatenate([np.linspace(EXP_LOW, EXP_HIGH, 20_000), [0.0, -1.0, 1.0, 4.0]])
    got = shared_exp(x)
    err = np.abs(got - np.exp(x))
    assert np.all(err <= exp_error_bound(x)), float(np.max(err - exp_error_bound(x)))
    # the bound is tight where it matters: about 0.2 % relative near |x| = 1
    near = np.abs(np.abs(x) - 1.0) < 0.05
    assert np.max(err[near] / np.exp(x[near])) < 0.01


def test_precision_schedule_keeps_products_within_the_budget():
    assert precisions(14) == (18, 18, 18, 18, 17, 17, 15, 12, 14)
    assert precisions(20)[-1] == 20 and precisions(8)[0] == 18


def test_outside_the_range_is_garbage_that_the_deviance_guard_catches():
    x = np.array([30.0, 35.0, 40.0, 45.0])  # the last product passes 2^63: the ring wraps
    got = shared_exp(x)
    assert np.all(np.abs(got / np.exp(x) - 1.0) > 0.5)  # garbage, not an approximation
    # SS Poisson's guest sees this through the deviance it opens: 2·(Σμ − Σy·η) + const
    y = np.array([1.0, 0.0, 2.0, 1.0])
    ref = DevianceReference.of(y)
    opened = 2.0 * float(np.sum(got) - y @ x)
    _, reason = ref.judge(opened, [])
    assert reason is not None  # the trainer raises TrainingDivergedError with it (test_ss_poisson)
    # in range, the same deviance is sane and equals the plaintext one
    z = np.array([0.3, -1.2, 0.8, -0.1])
    loss, reason = ref.judge(2.0 * float(np.sum(shared_exp(z)) - y @ z), [])
    ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0)
    plain = 2.0 * np.mean(np.exp(z) - y * z + ylogy - y)
    assert reason is None
    assert loss == pytest.approx(plain, abs=2.0 * float(np.mean(exp_error_bound(z))))
