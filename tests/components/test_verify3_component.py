"""verify3: the guest's per-row flags against the host's records, columns named per party,
nothing of either table in the other's output."""

import pandas as pd

from coalition.components import REGISTRY, Dataset
from coalition.components.verify3 import Verify3
from coalition.core import Party

BANK, TELCO = Party.guest("bank"), Party.host("telco")


def test_guest_gets_flags_in_row_order_and_host_only_metrics(run_component):
    telco = pd.DataFrame({"msisdn": ["13800138000", "13900139000"], "holder": ["Zhang San", "李四"],
                          "cert": ["110105194912310021", "11010519491231002X"]})
    bank = pd.DataFrame({
        "cust": ["c1", "c2", "c3", "c4"],
        "phone": ["+86 138 0013 8000", "13900139000", "13900139000", "15000000000"],
        "name": ["zhang  san", "李四", "王五", "Zhang San"],
        "id_number": ["110105194912310021", "11010519491231002x", "0", "110105194912310021"]})
    out = run_component(
        Verify3,
        {BANK: {"phone_country": "86"},
         TELCO: {"phone_country": "86", "phone_column": "msisdn", "name_column": "holder",
                 "id_number_column": "cert"}},
        {BANK: {"data": Dataset(bank, "cust")}, TELCO: {"data": Dataset(telco, "msisdn")}})
    flags = out[BANK]["data"].frame
    assert flags.columns.tolist() == ["cust", "phone_found", "name_match", "id_match"]
    assert flags.values.tolist() == [["c1", 1, 1, 1], ["c2", 1, 1, 1], ["c3", 1, 0, 0],
                                     ["c4", 0, 0, 0]]
    assert out[BANK]["metrics"].values["telco_records"] == 2.0
    assert set(out[TELCO]) == {"metrics"} and out[TELCO]["metrics"].values["padded_elements"] == 48
    schema = REGISTRY.describe("verify3")
    assert "suite" in str(schema) and "phone_column" in str(schema)
