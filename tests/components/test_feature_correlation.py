"""feature_correlation: cross-party Pearson by secret sharing equals numpy's; the wire."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset
from coalition.components.feature_correlation import FeatureCorrelation
from coalition.core import InputError, Party
from coalition.protocols.feature.correlation import (
    CORR_SHAPE,
    FRAC_BITS,
    standardise,
)
from coalition.testing import PartyFailure, Recorder, find_leaks

G, H1, H2, A = Party.guest("bank"), Party.host("telco"), Party.host("shop"), Party.arbiter("c")
N = 500


def _tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(9)
    ids = [f"u{i}" for i in range(N)]
    a = rng.normal(0, 1, N)
    guest = pd.DataFrame({"id": ids, "y": rng.integers(0, 2, N), "a": a * 1000 + 5,
                          "b": rng.exponential(3, N)})
    host = pd.DataFrame({"id": ids, "c": 0.7 * a + rng.normal(0, 0.5, N),
                         "d": -guest["b"] + rng.normal(0, 0.1, N), "flat": np.full(N, 2.0)})
    shop = pd.DataFrame({"id": ids, "e": rng.uniform(0, 1, N), "f": a ** 2})
    # a host's rows in another order: each party sorts its aligned rows by ID
    return guest, host.sample(frac=1.0, random_state=1), shop


@pytest.fixture(scope="module")
def run():
    from coalition.components import TaskContext
    from coalition.testing import run_parties

    guest, host, shop = _tables()
    data = {G: Dataset(guest, "id", "y"), H1: Dataset(host, "id"), H2: Dataset(shop, "id")}
    rec = Recorder()

    def role(party):
        def main(ctx):
            p = FeatureCorrelation.parse_params({})
            inputs = {"data": data[party]} if party in data else {}
            return dict(FeatureCorrelation().run(TaskContext(ctx, "t", p, inputs)))
        return main

    out = run_parties({p: role(p) for p in (G, H1, H2, A)}, wrap=rec.wrap, timeout=60)
    return guest, host, shop, out, rec


def test_cross_party_pearson_equals_numpy_on_the_joined_table(run):
    guest, host, shop, out, _ = run
    [table] = out[G]["report"].content["tables"]
    got = {(r[0], r[1], r[2]): r[3] for r in table["rows"]}
    joined = guest.merge(host, on="id").merge(shop, on="id")
    for party, frame in ((H1, host), (H2, shop)):
        for g in ("a", "b"):
            for h in frame.columns.drop("id"):
                r = got[(g, str(party), h)]
                if h == "flat":
                    assert r is None  # constant: undefined, as numpy's nan
                    continue
                assert r == pytest.approx(np.corrcoef(joined[g], joined[h])[0, 1], abs=1e-6)
    assert got[("a", str(H1), "c")] > 0.7 and got[("b", str(H1), "d")] < -0.9
    assert out[G]["metrics"].values["max_abs_r"] > 0.9
    assert out[H1] == {} and out[A] == {}


def test_no_column_crosses_and_the_dealer_sees_only_shapes(run):
    guest, host, shop, _, rec = run
    to_dealer = rec.received_by(A)
    assert {m.key.rsplit("/", 1)[-1] for m in to_dealer} == {CORR_SHAPE.name}
    for m in to_dealer:
        assert set(m.value()) == {"rows", "cols"}

    def fixed(frame: pd.DataFrame, cols: list[str]) -> list[int]:
        z, _ = standardise(frame.sort_values("id")[cols].to_numpy(dtype=np.float64))
        enc = np.round(z * (1 << FRAC_BITS)).astype(np.int64)
        return [int(v) for v in enc.ravel() if abs(v) > 1 << 10]

    guest_values = guest[["a", "b"]].to_numpy().ravel().tolist() + fixed(guest, ["a", "b"])
    for h, frame, cols in ((H1, host, ["c", "d"]), (H2, shop, ["e", "f"])):
        assert find_leaks(rec.received_by(h), guest_values) == []
        host_values = frame[cols].to_numpy().ravel().tolist() + fixed(frame, cols)
        assert find_leaks([m for m in rec.received_by(G) if m.sender == h], host_values) == []
        assert find_leaks(rec.received_by(h), host_values) == []  # no echo either


def test_missing_values_and_text_are_clear_errors(run_component):
    frame = pd.DataFrame({"id": ["a", "b", "c"], "y": [0, 1, 0], "x": [1.0, np.nan, 2.0]})
    with pytest.raises(InputError, match="missing"):
        standardise(frame[["x"]].to_numpy())
    with pytest.raises(PartyFailure, match="NaN"):
        run_component(FeatureCorrelation, {G: {}, H1: {}, A: {}},
                      {G: {"data": Dataset(frame, "id", "y")},
                       H1: {"data": Dataset(frame.drop(columns="y"), "id")}})
    text = pd.DataFrame({"id": ["a", "b", "c"], "t": ["p", "q", "r"]})
    with pytest.raises(PartyFailure, match="numeric") as info:
        run_component(FeatureCorrelation, {G: {}, H1: {}, A: {}},
                      {G: {"data": Dataset(frame.fillna(0.0), "id", "y")},
                       H1: {"data": Dataset(text, "id")}})
    assert info.value.party == H1
