"""feature_statistics: equality with pandas/numpy, the k rule, odd columns, and the wire."""

from typing import Any

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, Metrics, Report
from coalition.components.feature_statistics import FeatureStatistics
from coalition.core import Party, ProtocolError
from coalition.protocols.feature import STATS_SUMMARY
from coalition.protocols.feature.tables import FORMAT
from coalition.testing import PartyFailure, Recorder, find_leaks

G, H = Party.guest("bank"), Party.host("telco")


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(3.0, 2.0, n)
    x[::9] = np.nan
    return pd.DataFrame({
        "id": [f"u{i}" for i in range(n)],
        "y": rng.integers(0, 2, n),
        "x": x,
        "k": rng.integers(0, 4, n),
        "city": rng.choice(["paris", "lyon", "nice", "metz"], n, p=[.5, .3, .19, .01]),
        "const": np.full(n, 5.0),
        "empty": np.full(n, np.nan),
        "rare": np.where(np.arange(n) < 4, 1.0, np.nan),  # 4 values < k
    })


def _records(report: Report, party: Party) -> dict[str, dict[str, Any]]:
    assert report.content["format"] == FORMAT
    [table] = [t for t in report.content["tables"] if t["party"] == str(party)]
    return {r[0]: dict(zip(table["columns"], r, strict=True)) for r in table["rows"]}


def test_statistics_equal_pandas_and_numpy_on_every_column(run_component):
    frame = _frame()
    data = Dataset(frame, "id", "y")
    out = run_component(FeatureStatistics, {G: {"quantiles": [0.1, 0.5, 0.9]}},
                        {G: {"data": data}})[G]
    rec = _records(out["report"], G)
    x = frame["x"].dropna()
    r = rec["x"]
    assert r["type"] == "numeric" and r["rows"] == 200 and r["count"] == x.size
    assert r["missing_rate"] == pytest.approx(frame["x"].isna().mean(), abs=1e-12)
    assert r["mean"] == pytest.approx(x.mean(), abs=1e-9)
    assert r["std"] == pytest.approx(x.std(), abs=1e-9)
    assert (r["min"], r["max"]) == (x.min(), x.max())
    for q in (0.1, 0.5, 0.9):
        assert r[f"q{q:g}"] == pytest.approx(np.quantile(x, q), abs=1e-9)
    assert r["skew"] == pytest.approx(x.skew(), abs=1e-9)
    assert r["kurtosis"] == pytest.approx(x.kurt(), abs=1e-9)
    assert r["distinct"] == x.nunique() and r["suppressed"] is False
    city = rec["city"]
    assert city["type"] == "categorical" and city["mean"] is None and city["distinct"] == 4
    counts = frame["city"].value_counts()
    assert [v for v, _ in city["top_values"]] == [v for v, c in counts.items() if c >= 10]
    assert all(c == counts[v] for v, c in city["top_values"])
    const = rec["const"]
    assert const["std"] == 0.0 and const["skew"] is None and const["kurtosis"] is None
    empty = rec["empty"]
    assert empty["count"] == 0 and empty["missing_rate"] == 1.0 and empty["suppressed"] is True
    assert empty["mean"] is None and empty["top_values"] == []
    rare = rec["rare"]  # k rule: 4 values < 10, nothing computed over them
    assert rare["suppressed"] is True and rare["mean"] is None and rare["min"] is None
    assert "y" not in rec and "id" not in rec
    assert out["metrics"] == Metrics({"columns": 6.0, "suppressed_columns": 2.0})


def test_min_count_rule_suppresses_small_tables_and_is_configurable(run_component):
    small = Dataset(_frame(8), "id", "y")
    rec = _records(run_component(FeatureStatistics, {G: {}}, {G: {"data": small}})[G]["report"], G)
    assert all(r["suppressed"] and r["mean"] is None and r["missing_rate"] is None
               for r in rec.values())
    rec = _records(run_component(FeatureStatistics, {G: {"min_count": 2}},
                                 {G: {"data": small}})[G]["report"], G)
    assert rec["x"]["mean"] == pytest.approx(_frame(8)["x"].mean())


def test_bad_parameters_are_one_config_error():
    from coalition.core import ConfigError
    with pytest.raises(ConfigError, match="invalid component parameters"):
        FeatureStatistics.parse_params({"quantiles": [1.5]})
    with pytest.raises(ConfigError):
        FeatureStatistics.parse_params({"min_count": 0})


def _host_frame(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame({"id": [f"u{i}" for i in range(n)],
                         "income": rng.normal(5e4, 1e4, n), "age": rng.uniform(18, 90, n)})


def test_host_shares_only_aggregates_and_only_when_its_params_say_so(run_component):
    guest, host = Dataset(_frame(), "id", "y"), Dataset(_host_frame(), "id")
    rec = Recorder()
    quiet = {"share_with_guest": True, "include_extremes": False, "top_values": 0,
             "quantiles": []}
    out = run_component(FeatureStatistics, {G: {}, H: quiet},
                        {G: {"data": guest}, H: {"data": host}}, wrap=rec.wrap)
    shared = _records(out[G]["report"], H)
    assert shared == _records(out[H]["report"], H)
    assert shared["income"]["mean"] == pytest.approx(host.frame["income"].mean())
    assert rec.sent_by(G) == []  # the host learns nothing
    assert [m.key.rsplit("/", 1)[-1] for m in rec.sent_by(H)] == [STATS_SUMMARY.name]
    raw = host.frame[["income", "age"]].to_numpy().ravel().tolist() + host.ids()
    assert find_leaks(rec.sent_by(H), raw) == []

    rec = Recorder()
    out = run_component(FeatureStatistics, {G: {}, H: {}},
                        {G: {"data": guest}, H: {"data": host}}, wrap=rec.wrap)
    assert [t["party"] for t in out[G]["report"].content["tables"]] == [str(G)]
    [msg] = rec.sent_by(H)
    assert msg.value() == {"shared": False}


def test_guest_refuses_a_malformed_host_summary(run_component):
    from coalition.components import TaskContext
    from coalition.testing import run_parties

    def hostile(ctx):
        ctx.send(ctx.guest, STATS_SUMMARY, {"shared": True, "columns": ["a"], "rows": [[{}]]})
        return {}

    def guest(ctx):
        p = FeatureStatistics.parse_params({})
        return FeatureStatistics().run(TaskContext(ctx, "t", p, {"data": Dataset(_frame(), "id")}))

    with pytest.raises(PartyFailure) as exc:
        run_parties({G: guest, H: hostile}, timeout=30)
    assert exc.value.party == G and isinstance(exc.value.error, ProtocolError)
