"""reader, data_split, evaluate: local behaviour, the split's wire, and what it reveals."""

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, Environment, Metrics, Report
from coalition.components.data_split import TEST_ROWS, DataSplit, split_positions
from coalition.components.evaluate import Evaluate
from coalition.components.reader import Reader
from coalition.core import InputError, Party
from coalition.testing import Recorder, find_leaks

G, H = Party.guest("bank"), Party.host("telco")


def _read(path, **params):
    p = Reader.parse_params({"path": str(path), **params})
    from coalition.components import TaskContext

    class _Comm:  # the reader never communicates; it only asks who it is
        party, role = G, G.role

    return Reader().run(TaskContext(_Comm(), "read", p, {}, Environment()))  # type: ignore[arg-type]


def test_reader_keeps_ids_as_written_and_selects_columns(tmp_path):
    f = tmp_path / "bank.csv"
    f.write_text("id,y,a,b\n007,1,0.5,2\n010,0,1.5,3\n")
    out = _read(f, label_column="y", columns=["b"])
    data = out["data"]
    assert data.ids() == ["007", "010"] and data.features == ["b"]
    assert data.labels().tolist() == [1.0, 0.0]
    assert out["metrics"] == Metrics({"rows": 2.0, "features": 1.0})
    pq = tmp_path / "bank.parquet"
    pd.read_csv(f, dtype={"id": str}).to_parquet(pq)
    assert _read(pq, label_column="y")["data"].ids() == ["007", "010"]


def test_reader_rejects_missing_files_columns_and_empty_ids(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("id,a\n1,2\n,3\n")
    with pytest.raises(InputError, match="empty IDs"):
        _read(f)
    with pytest.raises(InputError, match="column"):
        _read(f, label_column="nope")
    with pytest.raises(InputError, match="not found"):
        _read(tmp_path / "missing.csv")


def test_reader_fingerprint_follows_file_content(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("id,a\n1,2\n")
    params = Reader.parse_params({"path": "x.csv"})
    env = Environment(lambda ref: tmp_path / ref)
    first = Reader.fingerprint(params, env)
    assert Reader.fingerprint(params, env) == first
    f.write_text("id,a\n1,3\n")
    assert Reader.fingerprint(params, env) != first


def test_stratified_positions_keep_class_ratios():
    y = np.array([0.0] * 70 + [1.0] * 30)
    test = split_positions(100, y, 0.2, key=bytes(32))
    assert test.size == 20 and (y[test] == 1).sum() == 6
    assert np.all(np.diff(test) > 0)
    assert np.array_equal(test, split_positions(100, y, 0.2, key=bytes(32)))
    assert not np.array_equal(test, split_positions(100, y, 0.2, key=bytes([1]) * 32))
    assert not np.array_equal(test, split_positions(100, y, 0.2))  # fresh secret key
    with pytest.raises(InputError):
        split_positions(3, None, 0.1)


def _aligned(n=60, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f"id{i:03d}" for i in range(n)]
    g = pd.DataFrame({"id": ids, "y": rng.integers(0, 2, n), "g0": rng.normal(size=n)})
    h = pd.DataFrame({"id": ids, "h0": rng.normal(size=n), "h1": rng.normal(size=n)})
    return Dataset(g, "id", "y"), Dataset(h, "id")


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_vertical_split_aligns_parties_and_reveals_only_positions(run_component, suite):
    g, h = _aligned()
    rec = Recorder()
    out = run_component(DataSplit, {G: {"test_size": 0.25, "seed": 5, "suite": suite},
                                    H: {"test_size": 0.25, "suite": suite}},
                        {G: {"data": g}, H: {"data": h}}, wrap=rec.wrap)
    for part in ("train", "test"):
        assert out[G][part].ids() == out[H][part].ids()
    assert abs(len(out[G]["test"].frame) - 15) <= 1  # rounding per class
    assert rec.sent_by(H) == []
    assert [m.key.rsplit("/", 1)[-1] for m in rec.sent_by(G)] == [TEST_ROWS.name]
    assert set(rec.sent_by(G)[0].value()) == {"n_rows", "test"}
    assert find_leaks(rec.sent_by(G), g.frame["g0"].tolist()) == []


def test_vertical_split_refuses_misaligned_rows(run_component):
    g, h = _aligned()
    with pytest.raises(Exception) as info:
        run_component(DataSplit, {G: {}, H: {}}, {G: {"data": g}, H: {"data": h.take(np.arange(50))}})
    assert "aligned" in str(info.value)


def test_horizontal_split_is_local(run_component):
    g, _ = _aligned()
    other = Dataset(g.frame.assign(id=[f"x{i}" for i in range(60)]), "id", "y")
    rec = Recorder()
    out = run_component(DataSplit, {G: {"mode": "horizontal"}, H: {"mode": "horizontal"}},
                        {G: {"data": g}, H: {"data": other}}, wrap=rec.wrap)
    assert rec.messages == []
    assert len(out[H]["train"].frame) + len(out[H]["test"].frame) == 60


def test_evaluate_binary_and_regression(run_component):
    frame = pd.DataFrame({"id": list("abcdef"), "y": [0, 0, 1, 1, 0, 1],
                          "score": [0.1, 0.4, 0.35, 0.8, 0.2, 0.9]})
    out = run_component(Evaluate, {G: {}}, {G: {"data": Dataset(frame, "id", "y")}})[G]
    assert out["metrics"].values["auc"] == pytest.approx(8 / 9)
    assert isinstance(out["report"], Report) and "roc" in out["report"].content
    reg = run_component(Evaluate, {G: {"task": "regression"}},
                        {G: {"data": Dataset(frame, "id", "y")}})[G]
    assert set(reg["metrics"].values) == {"rmse", "mae", "r2"}
    with pytest.raises(Exception, match="column"):
        run_component(Evaluate, {G: {"score_column": "nope"}},
                      {G: {"data": Dataset(frame, "id", "y")}})
