"""feature_binning: bins, WOE/IV equal to the centralised computation, and the wire."""

import math

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset
from coalition.components.feature_binning import FeatureBinning
from coalition.core import InputError, Party, ProtocolError
from coalition.protocols.feature.binning import apply_bins, fit_bins, n_bins
from coalition.protocols.feature.woe import ENC_LABELS, HOST_BIN_SUMS
from coalition.testing import PartyFailure, Recorder, find_leaks

G, H = Party.guest("bank"), Party.host("telco")
N = 300
KEY = {"key_bits": 1024, "allow_insecure_key": True}


def _tables(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(N)]
    inc = rng.normal(5.0, 2.0, N)
    y = (inc + rng.normal(0, 2.0, N) > 5.5).astype(int)
    inc[::13] = np.nan
    guest = pd.DataFrame({"id": ids, "y": y, "g1": rng.uniform(0, 1, N)})
    host = pd.DataFrame({"id": ids, "income": inc,
                         "job": rng.choice(["clerk", "nurse", "chef", "pilot"], N,
                                           p=[.5, .3, .18, .02]),
                         "flat": np.ones(N)})
    return guest, host


def _central_iv(x_codes: np.ndarray, y: np.ndarray, bins: int) -> float:
    """The textbook computation on the joined table (FATE's 0.5 adjustment)."""
    e = np.bincount(x_codes, weights=y, minlength=bins)
    r = np.bincount(x_codes, minlength=bins)
    n = r - e
    iv = 0.0
    for ei, ni, ri in zip(e, n, r, strict=True):
        if ri == 0:
            continue
        adj = 0.5 if ei == 0 or ni == 0 else 0.0
        pe, pn = (ei + adj) / e.sum(), (ni + adj) / n.sum()
        iv += (pe - pn) * math.log(pe / pn)
    return iv


@pytest.fixture(scope="module")
def exchange():
    """One guest + host run, recorded."""
    from coalition.components import TaskContext
    from coalition.testing import run_parties

    guest, host = _tables()
    data = {G: Dataset(guest, "id", "y"), H: Dataset(host, "id")}
    rec = Recorder()

    def role(party):
        def main(ctx):
            p = FeatureBinning.parse_params({"bins": 5, **KEY})
            return dict(FeatureBinning().run(TaskContext(ctx, "t", p, {"data": data[party]})))
        return main

    out = run_parties({G: role(G), H: role(H)}, wrap=rec.wrap, timeout=120)
    return guest, host, out, rec


def _iv(out, party: Party) -> dict[str, float]:
    [table] = [t for t in out[G]["report"].content["tables"] if t["name"] == "iv"]
    return {r[1]: r[3] for r in table["rows"] if r[0] == str(party)}


def test_host_iv_equals_the_centralised_iv_on_the_joined_table(exchange):
    guest, host, out, _ = exchange
    fitted = out[H]["model"].data["bins"]
    codes = apply_bins(fitted, host)
    y = guest["y"].to_numpy()
    got = _iv(out, H)
    for f in ("income", "job", "flat"):
        central = _central_iv(codes[f], y, n_bins(fitted[f]))
        assert got[f] == pytest.approx(central, abs=1e-9)
    own_fit = out[G]["model"].data["bins"]
    own = apply_bins(own_fit, guest)
    assert _iv(out, G)["g1"] == pytest.approx(_central_iv(own["g1"], y, n_bins(own_fit["g1"])),
                                              abs=1e-9)
    assert got["income"] > 0.1 > got["flat"]  # the informative feature ranks first


def test_host_bins_apply_unchanged_at_predict_time(exchange):
    out = exchange[2]
    fitted = out[H]["model"].data["bins"]
    assert fitted["job"] == {"kind": "categorical", "categories": ["chef", "clerk", "nurse"]}
    new = pd.DataFrame({"income": [np.nan, -1e9, 1e9], "job": ["pilot", "astronaut", None],
                        "flat": [1.0, 2.0, np.nan]})
    codes = apply_bins(fitted, new)
    last = len(fitted["income"]["edges"]) + 1
    assert codes["income"].tolist() == [last, 0, last - 1]
    assert codes["job"].tolist() == [3, 3, 4]  # rare, unseen -> rare, missing
    assert codes["flat"].tolist() == [0, 0, 1]  # constant column: one value bin + missing
    with pytest.raises(InputError, match="absent"):
        apply_bins(fitted, new.drop(columns="job"))


def test_the_host_sees_no_label_and_the_guest_no_edge_or_row_bin(exchange):
    guest, host, out, rec = exchange
    to_host = rec.received_by(H)
    assert [m.key.rsplit("/", 1)[-1] for m in to_host] == [ENC_LABELS.name]
    # Only ciphertexts reach the host: no plaintext label-derived number at all.
    assert find_leaks(to_host, guest["y"].tolist()) == []
    [msg] = rec.sent_by(H)
    assert msg.key.endswith(HOST_BIN_SUMS.name)
    edges = [e for s in out[H]["model"].data["bins"].values() for e in s.get("edges", [])]
    cats = ["clerk", "nurse", "chef", "pilot"]
    assert find_leaks([msg], edges + cats + host["income"].dropna().tolist()) == []
    value = msg.value()
    assert all(len(v["rows"]) < N for v in value.values())  # per-bin counts, no row vector


def test_host_bins_are_shuffled():
    # The host's order is a fresh secret permutation: across runs the guest's view of the
    # same feature's bins is not in edge order every time.
    from coalition.components import TaskContext
    from coalition.testing import run_parties

    guest, host = _tables()
    orders = set()
    for _ in range(4):
        def role(party, frame, label):
            def main(ctx):
                p = FeatureBinning.parse_params({"bins": 6, **KEY})
                d = Dataset(frame[["id", *([label] if label else []), *(
                    ["income"] if party == H else ["g1"])]], "id", label)
                return dict(FeatureBinning().run(TaskContext(ctx, "t", p, {"data": d})))
            return main
        out = run_parties({G: role(G, guest, "y"), H: role(H, host, None)}, timeout=120)
        [t] = [t for t in out[G]["report"].content["tables"] if t["name"] == "bins"]
        orders.add(tuple(r[3] for r in t["rows"] if r[0] == "income"))
    assert len(orders) > 1


def test_fit_rejects_text_as_numeric_and_labels_outside_0_1(run_component):
    frame = pd.DataFrame({"id": ["a", "b"], "y": [0, 2], "x": [1.0, 2.0]})
    with pytest.raises(PartyFailure, match="labels in"):
        run_component(FeatureBinning, {G: {"bins": 2, **KEY}},
                      {G: {"data": Dataset(frame, "id", "y")}})
    fitted = fit_bins(pd.DataFrame({"t": ["a", "b"]}), ["t"], method="quantile", bins=2,
                      categorical=frozenset(), min_category_count=1)
    assert fitted["t"]["kind"] == "categorical"
    with pytest.raises(InputError, match="non-numeric"):
        apply_bins({"t": {"kind": "numeric", "edges": [0.5]}}, pd.DataFrame({"t": ["a"]}))


def test_guest_refuses_bin_sums_that_do_not_add_up():
    from coalition.components import TaskContext
    from coalition.testing import run_parties

    guest, _ = _tables()

    def hostile(ctx):
        msg = ctx.recv(ctx.guest, ENC_LABELS)
        enc = msg["labels"]
        ctx.send(ctx.guest, HOST_BIN_SUMS, {"x": {"events": enc[:2], "rows": np.array([1, 1])}})
        return {}

    def main(ctx):
        p = FeatureBinning.parse_params({"bins": 3, **KEY})
        return FeatureBinning().run(TaskContext(ctx, "t", p, {"data": Dataset(guest, "id", "y")}))

    with pytest.raises(PartyFailure) as exc:
        run_parties({G: main, H: hostile}, timeout=60)
    assert exc.value.party == G and isinstance(exc.value.error, ProtocolError)
