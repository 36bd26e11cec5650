"""data_union: each party appends its own second table; duplicates refused or resolved; local."""

import pandas as pd
import pytest

from coalition.components import Dataset
from coalition.components.data_union import DataUnion
from coalition.core import InputError, Party
from coalition.testing import PartyFailure, Recorder

G, H = Party.guest("bank"), Party.host("telco")


def _march() -> Dataset:
    return Dataset(pd.DataFrame({"id": ["a1", "b2"], "x": [1.0, 2.0], "y": [0, 1]}), "id", "y")


def _april(ids: list[str]) -> Dataset:
    # same columns in another order
    return Dataset(pd.DataFrame({"y": [1] * len(ids), "x": [9.0] * len(ids), "id": ids}),
                   "id", "y")


def test_rows_are_appended_in_order_and_nothing_is_sent(run_component):
    rec = Recorder()
    telco = Dataset(pd.DataFrame({"id": ["t1"], "z": [3.0]}), "id")
    telco_more = Dataset(pd.DataFrame({"id": ["t2"], "z": [4.0]}), "id")
    out = run_component(DataUnion, {G: {}, H: {}},
                        {G: {"data": _march(), "other": _april(["c3"])},
                         H: {"data": telco, "other": telco_more}}, wrap=rec.wrap)
    bank = out[G]["data"]
    assert list(bank.frame.columns) == ["id", "x", "y"]
    assert bank.ids() == ["a1", "b2", "c3"] and bank.frame["x"].tolist() == [1.0, 2.0, 9.0]
    assert bank.label_column == "y"
    assert out[H]["data"].ids() == ["t1", "t2"]
    assert out[G]["metrics"].values == {"rows": 3.0, "duplicates_dropped": 0.0}
    assert rec.messages == []


@pytest.mark.parametrize(("policy", "x"), [("first", 2.0), ("last", 9.0)])
def test_a_repeated_id_keeps_the_chosen_row(run_component, policy, x):
    # " B2" is b2 in the canonical form PSI and the models use
    out = run_component(DataUnion, {G: {"on_duplicate": policy}},
                        {G: {"data": _march(), "other": _april([" B2", "c3"])}})[G]
    frame = out["data"].frame
    assert len(frame) == 3 and out["metrics"].values["duplicates_dropped"] == 1.0
    b2 = frame[frame["id"].str.strip().str.lower() == "b2"]
    assert b2["x"].tolist() == [x]


def test_duplicates_and_different_columns_are_typed_errors_naming_no_values(run_component):
    with pytest.raises(PartyFailure) as dup:
        run_component(DataUnion, {G: {}}, {G: {"data": _march(), "other": _april(["b2"])}})
    assert isinstance(dup.value.error, InputError) and dup.value.error.details["duplicates"] == 1
    other = Dataset(pd.DataFrame({"id": ["c3"], "x": [1.0], "w": [5.0], "y": [0]}), "id", "y")
    with pytest.raises(PartyFailure) as cols:
        run_component(DataUnion, {G: {}}, {G: {"data": _march(), "other": other}})
    error = cols.value.error
    assert isinstance(error, InputError) and error.details["only_in_other"] == ["w"]
    assert "c3" not in str(error) and "5.0" not in str(error)
