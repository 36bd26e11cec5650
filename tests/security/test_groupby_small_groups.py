"""A hostile group owner against ``feature_groupby``'s value owner (issue 26).

The value owner sees encrypted indicators only, so it cannot check group sizes; its guarantee
is its own: clip to the declared range, Laplace noise of scale ``(high - low) / epsilon`` on
every group sum (OS CSPRNG), at most ``max_groups`` groups a run. Here the guest forms a group
of exactly one row (bits, as the protocol expects) to read that row's value: it gets the
clipped value plus noise, spread as the declared scale says, never the value. More groups
than the host's cap, or indicators of another shape, are refused before anything is sent.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from coalition.core import InputError, Party, ProtocolError
from coalition.crypto.paillier import InsecureKeyWarning, generate_keypair
from coalition.protocols.feature.groupby import (
    FRACTION_BITS,
    SLOT_BITS,
    laplace,
    unpack,
    value_owner_sums,
)
from coalition.protocols.feature.spec import GROUP_INDICATORS, GROUP_SUMS, GroupByParams
from coalition.testing import PartyFailure, Recorder, run_parties

G, H = Party.guest("bank"), Party.host("telco")
ROWS = 8
VALUES = np.linspace(10.0, 180.0, ROWS)[:, None]  # one column, "arpu"
HOST = GroupByParams(value_columns=("arpu",), value_ranges={"arpu": (0.0, 200.0)},
                     epsilon=1.0, max_groups=4)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", InsecureKeyWarning)
    PK, SK = generate_keypair(1024, allow_insecure=True)


def _host(ctx):  # type: ignore[no-untyped-def]
    value_owner_sums(ctx, VALUES, ["arpu"], HOST)


def _single_row_guest(target: int):  # type: ignore[no-untyped-def]
    def guest(ctx):  # type: ignore[no-untyped-def]
        indicators = np.zeros(ROWS, dtype=np.int64)
        indicators[target] = 1  # a "group" of one row (slot 0)
        ctx.send(H, GROUP_INDICATORS, {"key": PK, "groups": 1,
                                       "indicators": SK.encrypt_int(indicators)})
        msg = ctx.recv(H, GROUP_SUMS)
        [value] = unpack(int(SK.decrypt_int(msg["sums"])[0]), 1)
        return value / 2.0 ** FRACTION_BITS
    return guest


def test_a_group_of_one_row_reveals_only_a_noisy_value() -> None:
    target = 7
    errors = []
    for _ in range(12):
        out = run_parties({G: _single_row_guest(target), H: _host}, timeout=30)
        errors.append(out[G] - float(VALUES[target, 0]))
    errors_arr = np.abs(np.array(errors))
    assert (errors_arr > 1e-3).all()  # never the row's value
    # noise of scale 200: a mean |error| below 20 has probability < 1e-9 for 12 draws
    assert errors_arr.mean() > 20.0


def test_the_noise_is_laplace_of_the_declared_scale() -> None:
    draws = laplace(200.0, 4000)
    assert abs(np.mean(np.abs(draws)) - 200.0) < 20.0  # E|X| = b
    assert abs(np.median(draws)) < 20.0
    assert len(set(draws.tolist())) == 4000  # fresh per draw


def test_more_groups_than_the_host_aggregates_are_refused_before_any_sum() -> None:
    def guest(ctx):  # type: ignore[no-untyped-def]
        one_each = np.empty(ROWS, dtype=object)  # one group per row: every value at once
        one_each[:] = [1 << (SLOT_BITS * r) for r in range(ROWS)]
        ctx.send(H, GROUP_INDICATORS, {"key": PK, "groups": ROWS,
                                       "indicators": SK.encrypt_int(one_each)})

    rec = Recorder()
    with pytest.raises(PartyFailure) as info:
        run_parties({G: guest, H: _host}, wrap=rec.wrap, timeout=30)
    assert info.value.party == H and isinstance(info.value.error, ProtocolError)
    assert [m for m in rec.sent_by(H) if GROUP_SUMS.name in m.key] == []


def test_indicators_of_another_row_count_or_shape_are_refused() -> None:
    def short(ctx):  # type: ignore[no-untyped-def]
        ctx.send(H, GROUP_INDICATORS, {"key": PK, "groups": 1, "indicators": SK.encrypt_int(
            np.ones(ROWS - 1, dtype=np.int64))})

    def square(ctx):  # type: ignore[no-untyped-def]
        ctx.send(H, GROUP_INDICATORS, {"key": PK, "groups": 1, "indicators": SK.encrypt_int(
            np.ones((2, ROWS), dtype=np.int64))})

    for guest, error in ((short, InputError), (square, ProtocolError)):
        rec = Recorder()
        with pytest.raises(PartyFailure) as info:
            run_parties({G: guest, H: _host}, wrap=rec.wrap, timeout=30)
        assert info.value.party == H and isinstance(info.value.error, error)
        assert [m for m in rec.sent_by(H) if GROUP_SUMS.name in m.key] == []


def test_a_value_column_without_a_declared_range_is_refused() -> None:
    loose = GroupByParams(value_columns=("arpu",), epsilon=1.0)

    def host(ctx):  # type: ignore[no-untyped-def]
        value_owner_sums(ctx, VALUES, ["arpu"], loose)

    with pytest.raises(PartyFailure) as info:
        run_parties({G: _single_row_guest(0), H: host}, timeout=30)
    assert info.value.party == H and isinstance(info.value.error, InputError)
