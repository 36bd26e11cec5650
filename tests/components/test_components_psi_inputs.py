"""The psi component warns about an empty intersection and counts duplicate IDs (issue 24)."""

import logging

import pandas as pd

from coalition.components import Dataset, Environment
from coalition.components.psi import Psi
from coalition.core import Party

G, H = Party.guest("g"), Party.host("h")


def test_empty_intersection_warns_and_reports_zero(run_component, caplog):
    g = Dataset(pd.DataFrame({"id": ["a", "b"], "x": [1.0, 2.0], "y": [0, 1]}), "id", "y")
    h = Dataset(pd.DataFrame({"id": ["c", "d"], "z": [3.0, 4.0]}), "id")
    with caplog.at_level(logging.WARNING, logger="coalition.components.psi"):
        out = run_component(Psi, {G: {}, H: {}}, {G: {"data": g}, H: {"data": h}})
    assert out[G]["metrics"].values["intersection_size"] == 0.0
    assert len(out[H]["data"].frame) == 0
    assert sum("intersection is empty" in r.getMessage() for r in caplog.records) == 2


def test_duplicate_ids_with_conflicting_labels_are_counted_and_warned(run_component, caplog):
    g = Dataset(pd.DataFrame({"id": ["a", " A", "b", "b", "c"], "x": [1.0, 2, 3, 4, 5],
                              "y": [0, 1, 1, 1, 0]}), "id", "y")
    h = Dataset(pd.DataFrame({"id": ["a", "b", "c"], "z": [3.0, 4.0, 5.0]}), "id")
    with caplog.at_level(logging.WARNING, logger="coalition.components.psi"):
        out = run_component(Psi, {G: {}, H: {}}, {G: {"data": g}, H: {"data": h}})
    metrics = out[G]["metrics"].values
    assert metrics["duplicate_ids"] == 2.0  # "a" (after canonicalisation) and "b"
    assert metrics["duplicate_ids_conflicting_labels"] == 1.0  # only "a" disagrees
    assert out[G]["metrics"].values["intersection_size"] == 3.0
    assert out[H]["metrics"].values["duplicate_ids"] == 0.0
    assert any("different labels" in r.getMessage() for r in caplog.records)


def test_bytes_on_the_wire_are_reported_and_agree_between_the_parties(run_component):
    g = Dataset(pd.DataFrame({"id": [f"p{i}" for i in range(50)], "x": range(50)}), "id")
    h = Dataset(pd.DataFrame({"id": [f"p{i}" for i in range(25, 90)], "z": range(65)}), "id")
    out = run_component(Psi, {G: {"protocol": "ecdh"}, H: {"protocol": "ecdh"}},
                        {G: {"data": g}, H: {"data": h}})
    mg, mh = out[G]["metrics"].values, out[H]["metrics"].values
    # every encoded payload one party sends is one the other receives
    assert mg["bytes_sent"] == mh["bytes_received"] > 50 * 32
    assert mh["bytes_sent"] == mg["bytes_received"] > 65 * 32


def test_oprf_keeps_tables_between_runs_and_sends_only_the_delta(run_component, tmp_path):
    """With a node state folder, a second OPRF run sends only added values and tombstones."""
    g = Dataset(pd.DataFrame({"id": [f"p{i}" for i in range(0, 300, 7)], "x": 1.0}), "id")
    host_ids = [f"p{i}" for i in range(2000)]
    env = Environment(state_dir=tmp_path)
    params = {G: {"protocol": "oprf"}, H: {"protocol": "oprf"}}

    def run(ids: list[str]) -> tuple[dict[str, float], dict[str, float], set[str]]:
        h = Dataset(pd.DataFrame({"id": ids, "z": 2.0}), "id")
        out = run_component(Psi, params, {G: {"data": g}, H: {"data": h}}, env=env)
        return (out[G]["metrics"].values, out[H]["metrics"].values,
                set(out[G]["data"].frame["id"]))

    first_g, first_h, first_ids = run(host_ids)
    assert first_g["oprf_table_delta"] == 0.0 and first_h["oprf_table_added"] == 2000
    changed = [i for i in host_ids if i not in {"p7", "p14"}] + ["p2100", "p2200"]
    second_g, second_h, second_ids = run(changed)
    assert second_g["oprf_table_delta"] == 1.0
    assert (second_h["oprf_table_added"], second_h["oprf_table_removed"],
            second_h["oprf_table_reused"]) == (2.0, 2.0, 1998.0)
    assert first_ids - second_ids == {"p7", "p14"} and second_ids <= set(changed)
    assert second_ids == set(g.frame["id"]) & set(changed)
    # the table is 2,000 12-byte values the first time; the delta is four of them
    assert second_h["bytes_sent"] < first_h["bytes_sent"] - 2000 * 12 + 1000
