"""The psi component warns when the intersection is empty (issue 24)."""

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
