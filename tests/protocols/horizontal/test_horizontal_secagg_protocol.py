"""SecAgg inside FL rounds: the aggregate equals the plain one, also when clients drop out at
each phase; the aggregator never sees an individual update in the clear."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hfl_support import (
    AGG,
    PerParty,
    client_parties,
    drop_sends,
    iid_split,
    load_fate,
    run_federation,
)

from coalition.protocols.horizontal import HorizontalParams, LocalData, SecAggConfig
from coalition.protocols.horizontal.models import LogisticRegression
from coalition.protocols.horizontal.secagg import encode
from coalition.protocols.horizontal.strategies import FedAvg
from coalition.testing import Recorder, find_leaks

N_CLIENTS = 5
FRAC_BITS = 24


@pytest.fixture(scope="module")
def breast(fate_data: Path) -> list[LocalData]:
    x, y = load_fate(fate_data, "breast_homo_guest.csv")
    x2, y2 = load_fate(fate_data, "breast_homo_host.csv")
    x_all, y_all = np.vstack([x, x2]), np.concatenate([y, y2])
    return [LocalData(a, b, a[:20], b[:20]) for a, b in iid_split(x_all, y_all, N_CLIENTS, seed=3)]


def _params(**kw) -> HorizontalParams:
    base = {"rounds": 1, "batch_size": 32, "learning_rate": 0.1, "client_timeout": 2.0}
    return HorizontalParams(**(base | kw))


def _make() -> LogisticRegression:
    return LogisticRegression(30)


@pytest.fixture(scope="module")
def plain_run(breast) -> tuple[dict, Recorder]:
    """One plain round; returns each client's update (vector) and sample count."""
    rec = Recorder()
    out = run_federation(_make, breast, _params(), FedAvg(), wrap=rec.wrap)
    updates = {}
    for msg in rec.received_by(AGG):
        if msg.key.endswith("round/0/reply"):
            body = msg.value()
            vec = np.concatenate([body["update"][k].ravel() for k in sorted(body["update"])])
            updates[msg.sender] = (vec, body["num_samples"])
    return {"updates": updates, "model": out[AGG]}, rec


def _expected(plain_run, participants) -> np.ndarray:
    updates = plain_run[0]["updates"]
    vecs = np.stack([updates[p][0] for p in participants])
    n = np.array([updates[p][1] for p in participants], dtype=np.float64)
    return n @ vecs / n.sum()  # initial LR weights are zero: the model is the mean update


def _flat(model) -> np.ndarray:
    return np.concatenate([model.weights[k].ravel() for k in sorted(model.weights)])


@pytest.mark.parametrize(("neighbours", "suite"), [(None, "standard"), (2, "standard"),
                                                   (2, "sm")],
                         ids=["secagg", "secagg_plus", "secagg_plus_sm"])
def test_secagg_aggregate_equals_plain(breast, plain_run, neighbours, suite) -> None:
    config = SecAggConfig(neighbours=neighbours, suite=suite)
    out = run_federation(_make, breast, _params(secagg=config), FedAvg())
    model = out[AGG]
    assert model.history[0].participants == [str(p) for p in client_parties(N_CLIENTS)]
    np.testing.assert_allclose(_flat(model), _flat(plain_run[0]["model"]),
                               atol=N_CLIENTS * 2.0 ** -FRAC_BITS, rtol=0)


@pytest.mark.parametrize(("drops", "counted"), [
    # no mask key: sits the round out, the fast path runs among the others
    ({1: "secagg_setup/sa_hello"}, [0, 2, 3, 4]),
    # masked input lost: the fast-path attempt is discarded, the survivors re-run the sum
    ({1: "round/0/reply"}, [0, 2, 3, 4]),
    # ... and a second client drops at each phase of that full-protocol re-run
    ({1: "round/0/reply", 3: "fallback/sa_advertise"}, [0, 2, 4]),
    ({1: "round/0/reply", 3: "fallback/sa_shares"}, [0, 2, 4]),
    ({1: "round/0/reply", 3: "fallback/sa_masked"}, [0, 2, 4]),  # masks recovered via s_sk
    ({1: "round/0/reply", 3: "fallback/sa_unmask"}, [0, 2, 3, 4]),  # counted; others reveal b
], ids=["hello", "fast_masked", "full_advertise", "full_shares", "full_masked", "full_unmask"])
def test_secagg_recovers_from_dropout(breast, plain_run, drops, counted) -> None:
    parties = client_parties(N_CLIENTS)
    wrap = PerParty({parties[i]: drop_sends(phase) for i, phase in drops.items()})
    out = run_federation(_make, breast, _params(secagg=SecAggConfig()), FedAvg(), wrap=wrap)
    rec = out[AGG].history[0]
    expected_parts = [parties[i] for i in counted]
    assert rec.applied
    assert rec.participants == [str(p) for p in expected_parts]
    np.testing.assert_allclose(_flat(out[AGG]), _expected(plain_run, expected_parts),
                               atol=N_CLIENTS * 2.0 ** -FRAC_BITS, rtol=0)


def test_secagg_fallback_then_fast_path_again(breast) -> None:
    # A dropout costs its round a full-protocol re-run; the next rounds use the fast path again
    # (the straggler included), and a fallback in the last round precedes the final model.
    parties = client_parties(N_CLIENTS)
    wrap = PerParty({parties[2]: drop_sends("round/0/reply"),
                     parties[4]: drop_sends("round/2/reply")})
    out = run_federation(_make, breast, _params(rounds=3, secagg=SecAggConfig(neighbours=2)),
                         FedAvg(), wrap=wrap)
    everyone = [str(p) for p in parties]
    history = out[AGG].history
    assert [h.applied for h in history] == [True, True, True]
    assert history[0].participants == [p for p in everyone if p != str(parties[2])]
    assert history[1].participants == everyone
    assert history[2].participants == [p for p in everyone if p != str(parties[4])]
    assert all(out[p].rounds_trained == 3 for p in parties)
    np.testing.assert_allclose(_flat(out[parties[0]].model), _flat(out[AGG]))


def test_secagg_round_abandoned_below_threshold(breast) -> None:
    # One lost masked input sends the round to the full protocol among 4 (threshold 3); two
    # more losses there leave too few to unmask anything.
    parties = client_parties(N_CLIENTS)
    drops = {parties[0]: drop_sends("round/0/reply")}
    drops |= {p: drop_sends("fallback/sa_masked") for p in parties[1:3]}
    out = run_federation(_make, breast, _params(rounds=2, secagg=SecAggConfig()), FedAvg(),
                         wrap=PerParty(drops))
    history = out[AGG].history
    assert not history[0].applied and history[0].participants == []
    assert history[1].applied  # the fast path is back in the next round
    # the surviving clients were told to leave the round and ended normally
    assert all(out[p].rounds_trained == 2 for p in parties)


@pytest.mark.parametrize(("fallback", "suite"), [(False, "standard"), (True, "standard"),
                                                 (True, "sm")],
                         ids=["fast_path", "with_fallback", "with_fallback_sm"])
def test_aggregator_never_sees_an_individual_update(breast, plain_run, fallback, suite) -> None:
    # with a fallback the aggregator holds two differently masked copies of each survivor's
    # input (fast path and full protocol); neither, nor the sum of the fast-path ones, leaks
    rec = Recorder()
    dropper = {client_parties(N_CLIENTS)[1]: drop_sends("round/0/reply")} if fallback else {}
    out = run_federation(_make, breast, _params(secagg=SecAggConfig(suite=suite)), FedAvg(),
                         wrap=PerParty(dropper, outer=rec.wrap))
    assert len(out[AGG].history[0].participants) == N_CLIENTS - len(dropper)
    received = rec.received_by(AGG)
    updates = plain_run[0]["updates"]
    for party, (vec, n) in updates.items():
        fixed = encode(vec, FRAC_BITS, 64, scale=n, max_summands=N_CLIENTS).astype(np.float64)
        raw = [*vec.tolist(), *fixed.tolist(), *(vec * n).tolist()]
        nonzero = [v for v in raw if v != 0.0]
        # sanity: the same search finds the update in the plain run
        assert find_leaks(plain_run[1].sent_by(party), nonzero)
        assert find_leaks([m for m in received if m.sender == party], nonzero) == []
    assert not any("update" in m.value() for m in received if m.key.endswith("/reply")
                   and isinstance(m.value(), dict))
    # the fast-path masked inputs sum to the inputs' sum only when nobody is missing
    masked = {m.sender: m.value()["secagg"]["masked"] for m in received
              if m.key.endswith("round/0/reply")}
    fixed_sum = sum((encode(updates[p][0], FRAC_BITS, 64, scale=updates[p][1],
                            max_summands=N_CLIENTS) for p in masked), np.zeros(31, np.uint64))
    masked_sum = sum(masked.values(), np.zeros(32, np.uint64))[:31]  # last: the weights
    assert np.mean(masked_sum == fixed_sum) == (0.0 if fallback else 1.0)


def test_no_raw_rows_leave_clients(breast, plain_run) -> None:
    rec = Recorder()
    run_federation(_make, breast, _params(secagg=SecAggConfig()), FedAvg(), wrap=rec.wrap)
    for recorder in (rec, plain_run[1]):
        for party, data in zip(client_parties(N_CLIENTS), breast, strict=True):
            raw = np.concatenate([data.x.ravel(), data.x_val.ravel()]).tolist()
            leaks = find_leaks(recorder.sent_by(party), raw, ignore=lambda v: v in (0, 1))
            assert leaks == []
