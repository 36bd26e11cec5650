"""Round mechanics: sampling, stragglers and quorum, DP accounting, metrics, artifacts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hfl_support import (
    AGG,
    PerParty,
    client_parties,
    delay_sends,
    iid_split,
    load_fate,
    run_federation,
)

from coalition.core import ConfigError, Context, MemoryMetrics, codec
from coalition.crypto.sm.sm3 import sm3
from coalition.protocols.horizontal import (
    DPConfig,
    GlobalModel,
    HorizontalParams,
    LocalData,
    SecAggConfig,
    run_aggregator,
)
from coalition.protocols.horizontal.contribution import model_digest
from coalition.protocols.horizontal.models import LogisticRegression
from coalition.protocols.horizontal.strategies import FedAvg, Krum


@pytest.fixture(scope="module")
def breast4(fate_data: Path) -> list[LocalData]:
    x, y = load_fate(fate_data, "breast_homo_guest.csv")
    x2, y2 = load_fate(fate_data, "breast_homo_host.csv")
    x_te, y_te = load_fate(fate_data, "breast_homo_test.csv")
    x_all, y_all = np.vstack([x, x2]), np.concatenate([y, y2])
    return [LocalData(a, b, x_te, y_te) for a, b in iid_split(x_all, y_all, 4, seed=1)]


def _make() -> LogisticRegression:
    return LogisticRegression(30)


def test_client_sampling_per_round(breast4) -> None:
    params = HorizontalParams(rounds=4, clients_per_round=2, min_clients=2)
    out = run_federation(_make, breast4, params, FedAvg())
    history = out[AGG].history
    assert all(len(h.sampled) == 2 and h.participants == h.sampled for h in history)
    assert len({tuple(h.sampled) for h in history}) > 1  # not always the same pair
    trained = sum(out[p].rounds_trained for p in client_parties(4))
    assert trained == 4 * 2
    # every client evaluates every round, sampled or not
    assert all(h.metrics["auc"] > 0 for h in history[1:])


def test_straggler_dropped_for_its_round_only(breast4) -> None:
    slow = client_parties(4)[2]
    params = HorizontalParams(rounds=3, client_timeout=1.0)
    wrap = PerParty({slow: delay_sends("round/0/reply", 2.0)})
    out = run_federation(_make, breast4, params, FedAvg(), wrap=wrap)
    history = out[AGG].history
    assert str(slow) not in history[0].participants and len(history[0].participants) == 3
    assert str(slow) in history[2].participants
    assert all(h.applied for h in history)


def test_round_below_quorum_leaves_model_unchanged(breast4) -> None:
    slow = client_parties(4)[0]
    params = HorizontalParams(rounds=3, min_clients=4, client_timeout=1.0)
    wrap = PerParty({slow: delay_sends("round/0/reply", 1.5)})
    out = run_federation(_make, breast4, params, FedAvg(), wrap=wrap)
    first, second, third = out[AGG].history
    assert not first.applied and third.applied
    assert first.participants == [str(p) for p in client_parties(4)[1:]]
    # round 1 started from the untouched initial model: its reported AUC is the chance level
    assert second.metrics["auc"] == first.metrics["auc"] == 0.5


def test_dp_reports_epsilon_each_round(breast4) -> None:
    dp = DPConfig(clip_norm=1.0, noise_multiplier=1.0, delta=1e-5, noise="server")
    params = HorizontalParams(rounds=4, clients_per_round=2, dp=dp)
    out = run_federation(_make, breast4, params, FedAvg())
    eps = [h.epsilon for h in out[AGG].history]
    assert all(e is not None and np.isfinite(e) and e > 0 for e in eps)
    assert eps == sorted(eps) and eps[0] < eps[-1]


def test_dp_with_secagg_and_client_noise_trains(breast4) -> None:
    dp = DPConfig(clip_norm=0.5, noise_multiplier=0.3, noise="client")
    params = HorizontalParams(rounds=8, dp=dp, secagg=SecAggConfig(), client_timeout=10)
    out = run_federation(_make, breast4, params, FedAvg())
    model = out[AGG]
    assert model.metrics["auc"] > 0.9
    assert model.history[-1].epsilon is not None and model.history[-1].epsilon > 0


def test_metrics_reach_the_sink(breast4) -> None:
    from coalition.testing import run_parties

    params = HorizontalParams(rounds=3)
    sink = MemoryMetrics()
    parties = client_parties(len(breast4))

    def agg(ctx: Context):
        ctx.metrics = sink
        return run_aggregator(ctx, _make(), FedAvg(), params)

    from coalition.protocols.horizontal import run_client

    def client(data: LocalData):
        return lambda ctx: run_client(ctx, _make(), data, params)

    roles = {AGG: agg} | {p: client(d) for p, d in zip(parties, breast4, strict=True)}
    run_parties(roles, timeout=30)
    steps = [p.step for p in sink.points if p.name == "val_auc"]
    assert steps == [0, 1, 2, 3]
    assert sink.series("val_auc")[-1] > 0.95


@pytest.mark.parametrize(("kwargs", "strategy"), [
    ({"secagg": SecAggConfig()}, Krum()),
    ({"dp": DPConfig(clip_norm=1.0, noise_multiplier=1.0)}, FedAvg()),  # client noise w/o SecAgg
    ({"dp": DPConfig(clip_norm=1.0, noise_multiplier=1.0, noise="server")}, Krum()),
    ({"clients_per_round": 2, "min_clients": 3}, FedAvg()),
])
def test_inconsistent_configuration_is_refused(breast4, kwargs, strategy) -> None:
    from coalition.testing import PartyFailure

    with pytest.raises(PartyFailure) as info:
        run_federation(_make, breast4, HorizontalParams(rounds=1, client_timeout=1.0, **kwargs),
                       strategy, timeout=2.0)
    assert isinstance(info.value.error, ConfigError)


def test_params_validation() -> None:
    with pytest.raises(ConfigError):
        HorizontalParams(rounds=0)
    with pytest.raises(ConfigError):
        SecAggConfig(neighbours=3)
    with pytest.raises(ConfigError):
        DPConfig(clip_norm=0.0, noise_multiplier=1.0)


def test_artifact_roundtrip_and_local_scoring(breast4) -> None:
    out = run_federation(_make, breast4, HorizontalParams(rounds=3), FedAvg())
    model: GlobalModel = out[AGG]
    loaded = GlobalModel.from_artifact(codec.decode(codec.encode(model.to_artifact())))
    x = breast4[0].x_val
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.history == model.history
    # every client ends with the same global model
    for p in client_parties(4):
        np.testing.assert_array_equal(out[p].model.weights["weight"], model.weights["weight"])


def test_round_digests_follow_the_suite(breast4) -> None:
    """Issue 25: the aggregator hashes each round's global model with the job's suite and the
    artifact records ``digest_alg`` under ``sm`` only (standard artifacts keep their bytes)."""
    out = {s: run_federation(_make, breast4[:2], HorizontalParams(rounds=2, suite=s), FedAvg())
           for s in ("standard", "sm")}
    std, sm = out["standard"][AGG], out["sm"][AGG]
    assert all(h.digest_alg is None for h in std.history)
    assert all(h.digest_alg == "sm3" for h in sm.history)
    assert all("digest_alg" not in r for r in std.to_artifact()["history"])
    vec = np.concatenate([np.ravel(v) for v in sm.weights.values()])
    assert model_digest(vec, "sm") == sm3(np.ascontiguousarray(vec, "<f8").tobytes()).hex()
    assert sm.history[-1].model_sha256 == model_digest(vec, "sm")  # the final model's
    assert std.history[-1].model_sha256 == model_digest(
        np.concatenate([np.ravel(v) for v in std.weights.values()]))
