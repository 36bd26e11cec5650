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


@pytest.mark.parametrize("neighbours", [None, 2], ids=["secagg", "secagg_plus"])
def test_secagg_aggregate_equals_plain(breast, plain_run, neighbours) -> None:
    out = run_federation(_make, breast, _params(secagg=SecAggConfig(neighbours=neighbours)),
                         FedAvg())
    model = out[AGG]
    assert model.history[0].participants == [str(p) for p in client_parties(N_CLIENTS)]
    np.testing.assert_allclose(_flat(model), _flat(plain_run[0]["model"]),
                               atol=N_CLIENTS * 2.0 ** -FRAC_BITS, rtol=0)


@pytest.mark.parametrize(("phase", "counted"), [
    ("secagg_setup/sa_hello", False),    # advertise: keys of round 0 never arrive
    ("secagg_setup/sa_response", False),  # shares of round 0 never arrive
    ("round/0/reply", False),            # masked input lost: its masks recovered via s_sk
    ("round/0/sa_response", True),       # unmask: input counted, the others reveal its b
])
def test_secagg_recovers_from_dropout(breast, plain_run, phase, counted) -> None:
    dropper = client_parties(N_CLIENTS)[1]
    wrap = PerParty({dropper: drop_sends(phase)})
    out = run_federation(_make, breast, _params(secagg=SecAggConfig()), FedAvg(), wrap=wrap)
    rec = out[AGG].history[0]
    expected_parts = client_parties(N_CLIENTS) if counted else \
        [p for p in client_parties(N_CLIENTS) if p != dropper]
    assert rec.applied
    assert rec.participants == [str(p) for p in expected_parts]
    np.testing.assert_allclose(_flat(out[AGG]), _expected(plain_run, expected_parts),
                               atol=N_CLIENTS * 2.0 ** -FRAC_BITS, rtol=0)


def test_secagg_dropout_in_pipelined_setup(breast) -> None:
    # Round 1's shares ride on round 0's unmask response: losing that response keeps the
    # client in round 0's sum (its b is rebuilt from the others' shares) but out of round 1's
    # (a share-phase dropout there); it is back in round 2.
    dropper = client_parties(N_CLIENTS)[2]
    wrap = PerParty({dropper: drop_sends("round/0/sa_response")})
    out = run_federation(_make, breast, _params(rounds=3, secagg=SecAggConfig(neighbours=2)),
                         FedAvg(), wrap=wrap)
    everyone = [str(p) for p in client_parties(N_CLIENTS)]
    history = out[AGG].history
    assert [h.applied for h in history] == [True, True, True]
    assert history[0].participants == everyone
    assert history[1].participants == [p for p in everyone if p != str(dropper)]
    assert history[2].participants == everyone
    assert out[dropper].rounds_trained == 2  # told to only evaluate in round 1


def test_secagg_round_abandoned_below_threshold(breast) -> None:
    # 5 clients, threshold 3: losing three masked inputs leaves too few to unmask anything.
    droppers = client_parties(N_CLIENTS)[:3]
    wrap = PerParty({p: drop_sends("round/0/reply") for p in droppers})
    out = run_federation(_make, breast, _params(rounds=1, secagg=SecAggConfig()), FedAvg(),
                         wrap=wrap)
    history = out[AGG].history
    assert [h.applied for h in history] == [False]
    assert not np.any(_flat(out[AGG]))  # the global model never moved
    # the surviving clients were told to leave the round and ended normally
    assert all(out[p].rounds_trained == 1 for p in client_parties(N_CLIENTS))


def test_aggregator_never_sees_an_individual_update(breast, plain_run) -> None:
    rec = Recorder()
    run_federation(_make, breast, _params(secagg=SecAggConfig()), FedAvg(), wrap=rec.wrap)
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


def test_no_raw_rows_leave_clients(breast, plain_run) -> None:
    rec = Recorder()
    run_federation(_make, breast, _params(secagg=SecAggConfig()), FedAvg(), wrap=rec.wrap)
    for recorder in (rec, plain_run[1]):
        for party, data in zip(client_parties(N_CLIENTS), breast, strict=True):
            raw = np.concatenate([data.x.ravel(), data.x_val.ravel()]).tolist()
            leaks = find_leaks(recorder.sent_by(party), raw, ignore=lambda v: v in (0, 1))
            assert leaks == []
