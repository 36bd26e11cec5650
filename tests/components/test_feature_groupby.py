"""feature_groupby: per-group counts exact, sums within the host's noise, small groups
suppressed by the guest; the wire carries ciphertexts only (recorded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, TaskContext
from coalition.components.feature_groupby import FeatureGroupBy, group_labels
from coalition.core import ConfigError, Party
from coalition.crypto.paillier import EncryptedArray
from coalition.protocols.feature.spec import GROUP_INDICATORS, GROUP_SUMS
from coalition.testing import Recorder, find_leaks, run_parties

G, H = Party.guest("bank"), Party.host("telco")
N = 160
GUEST = {"group_column": "age", "group_edges": [30, 50], "min_count": 10, "key_bits": 1024,
         "allow_insecure_key": True}
HOST = {"value_columns": ["arpu"], "value_ranges": {"arpu": [0.0, 200.0]}, "epsilon": 1.0}


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(5)
    ids = [f"u{i:04d}" for i in range(N)]
    age = np.concatenate([rng.uniform(20, 29, 70), rng.uniform(31, 49, 84),
                          rng.uniform(55, 70, 6)])  # the last band has 6 rows: suppressed
    arpu = np.round(rng.uniform(20, 150, N), 2)
    arpu[0] = 950.0  # outside the declared range: clipped to 200
    bank = pd.DataFrame({"id": ids, "age": age})
    telco = pd.DataFrame({"id": ids, "arpu": arpu}).sample(frac=1.0, random_state=2)
    return bank, telco


def _run(bank: pd.DataFrame, telco: pd.DataFrame, guest: dict, host: dict, rec: Recorder):  # type: ignore[no-untyped-def, type-arg]
    data = {G: Dataset(bank, "id"), H: Dataset(telco, "id")}
    params = {G: guest, H: host}

    def role(party):  # type: ignore[no-untyped-def]
        def main(ctx):  # type: ignore[no-untyped-def]
            p = FeatureGroupBy.parse_params(params[party])
            return dict(FeatureGroupBy().run(TaskContext(ctx, "t", p, {"data": data[party]})))
        return main

    return run_parties({p: role(p) for p in (G, H)}, wrap=rec.wrap, timeout=120)


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    bank, telco = _tables()
    rec = Recorder()
    return bank, telco, _run(bank, telco, GUEST, HOST, rec), rec


def test_counts_are_exact_sums_are_within_the_noise_and_small_groups_are_suppressed(run):  # type: ignore[no-untyped-def]
    bank, telco, out, _ = run
    [table] = out[G]["report"].content["tables"]
    rows = {r[0]: dict(zip(table["columns"], r, strict=True)) for r in table["rows"]}
    joined = bank.merge(telco, on="id")
    joined["arpu"] = joined["arpu"].clip(0, 200)
    bands, codes = group_labels(joined["age"], (30.0, 50.0))
    assert bands == ["<30", "30-50", ">=50"]
    assert rows[">=50"]["suppressed"] and rows[">=50"]["rows"] is None
    assert rows[">=50"]["sum"] is None and rows[">=50"]["mean"] is None
    for k, band in enumerate(bands[:2]):
        got = rows[band]
        assert got["rows"] == int((codes == k).sum()) and not got["suppressed"]
        true_sum = float(joined["arpu"][codes == k].sum())
        # Laplace(200 / 1): beyond 12 scales with probability e^-12 (and never exact)
        assert abs(got["sum"] - true_sum) < 12 * 200 and got["sum"] != pytest.approx(true_sum)
        assert got["mean"] == pytest.approx(got["sum"] / got["rows"])
        assert got["noise_scale"] == 200.0
    assert out[G]["metrics"].values == {"groups_reported": 2.0, "groups_suppressed": 1.0}
    assert out[H] == {}


def test_the_host_sees_ciphertexts_and_the_guest_no_value(run):  # type: ignore[no-untyped-def]
    bank, telco, _, rec = run
    to_host = [m for m in rec.received_by(H) if GROUP_INDICATORS.name in m.key]
    [msg] = to_host
    assert isinstance(msg.value()["indicators"], EncryptedArray)
    assert find_leaks(rec.received_by(H), bank["age"].tolist()) == []
    [sums] = [m for m in rec.received_by(G) if GROUP_SUMS.name in m.key]
    assert isinstance(sums.value()["sums"], EncryptedArray)
    assert find_leaks(rec.received_by(G), telco["arpu"].tolist(), float_tol=1e-9) == []


def test_parameters_refuse_unbounded_noise_empty_ranges_and_a_k_under_10() -> None:
    with pytest.raises(ConfigError):
        FeatureGroupBy.parse_params({"epsilon": 50.0})
    with pytest.raises(ConfigError):
        FeatureGroupBy.parse_params({"value_ranges": {"arpu": [5.0, 1.0]}})
    with pytest.raises(ConfigError):
        FeatureGroupBy.parse_params({"min_count": 3})
