"""The psi component warns about an empty intersection and counts duplicate IDs (issue 24)."""

import logging

import pandas as pd

from coalition.components import Dataset
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
