"""Server-side controls (quota per client per epoch, batch log) and the 1-out-of-k OT."""

import json

import numpy as np
import pytest
from pir_support import CLIENT, build, query

from coalition.core.errors import CryptoError, InputError
from coalition.protocols.pir import (
    PublicDecoyPool,
    QueryLog,
    QuotaBook,
    QuotaExceededError,
    ServerControls,
)
from coalition.protocols.pir.ot_decoys import kn as ot_kn
from coalition.protocols.pir.ot_decoys.decoys import candidates, decoy_like
from coalition.protocols.pir.spec import ModeRefusedError
from coalition.testing import PartyFailure


def test_quota_exceeded_is_a_clear_error_on_both_sides(tmp_path):
    table = build(n=50)
    controls = ServerControls(QuotaBook(40, tmp_path / "quota.json"),
                              QueryLog(tmp_path / "batches.jsonl"))
    query(table, ["cust-00001"], controls=controls)  # padded to 16
    query(table, ["cust-00002"] * 3, controls=controls, mode="bucketed")  # 32 used
    with pytest.raises(PartyFailure) as err:
        query(table, ["cust-00003"], controls=controls)  # 16 more would make 48 > 40
    failure = err.value.error
    assert isinstance(failure, QuotaExceededError)
    assert "quota exceeded" in str(failure) and "8 of 40 left" in str(failure)
    assert failure.details["limit"] == 40 and failure.details["requested"] == 16
    assert controls.quota.used(str(CLIENT), table.epoch) == 32  # the refusal counted nothing

    # the count survives a restart; a new epoch starts from zero
    assert QuotaBook(40, tmp_path / "quota.json").used(str(CLIENT), table.epoch) == 32
    table.rotate_key()
    table.sync(["cust-00001"], [b"x"])
    res, _ = query(table, ["cust-00001"], controls=controls)
    assert res.found == [True]

    lines = [json.loads(x) for x in (tmp_path / "batches.jsonl").read_text().splitlines()]
    assert [(x["client"], x["mode"], x["size"]) for x in lines] == [
        (str(CLIENT), "download", 16), (str(CLIENT), "bucketed", 16), (str(CLIENT), "download", 16)]
    assert set(lines[0]) == {"client", "mode", "size", "table_id", "epoch", "version", "time"}


def test_a_mode_the_server_does_not_answer_is_refused_before_the_quota(tmp_path):
    table = build(n=20)
    controls = ServerControls(QuotaBook(100, tmp_path / "quota.json"), QueryLog(),
                              modes=frozenset({"bucketed"}))
    with pytest.raises(PartyFailure) as err:
        query(table, ["cust-00001"], controls=controls, mode="download")
    assert isinstance(err.value.error, ModeRefusedError)
    assert err.value.error.code == "pir.mode_refused"
    assert controls.quota.used(str(CLIENT), table.epoch) == 0 and controls.log.records == []
    res, _ = query(table, ["cust-00001"], controls=controls, mode="bucketed")
    assert res.found == [True] and controls.quota.used(str(CLIENT), table.epoch) == 16


def test_ot_1_of_k_gives_exactly_the_chosen_pad():
    for k, r in ((2, 2), (4, 2), (5, 3), (100, 10), (101, 11)):
        assert ot_kn.radix(k) == r and r * r >= k
    a, a_point = ot_kn.sender_setup()
    choices = [0, 3, 6, 1]
    scalars, points = ot_kn.receiver_choose(a_point, choices, 7)
    pads = ot_kn.sender_pads(a, a_point, points, 7, length=24)
    assert points.shape == (len(choices) * ot_kn.DIGITS, 32) and ot_kn.radix(7) == 3
    mine = ot_kn.receiver_pads(a_point, scalars, points, choices, k=7, length=24)
    for i, c in enumerate(choices):
        assert np.array_equal(pads[i, c], mine[i])
        assert sum(np.array_equal(pads[i, j], mine[i]) for j in range(7)) == 1
    with pytest.raises(InputError):
        ot_kn.receiver_choose(a_point, [7], 7)
    with pytest.raises(CryptoError):
        ot_kn.receiver_choose(b"\x00" * 32, [0], 7)


def test_decoys_keep_the_format_and_hide_the_position():
    assert len(decoy_like("13800138000")) == 11 and decoy_like("13800138000").isdigit()
    d = decoy_like("acct-0042")
    assert d.startswith("acct-") and d[5:].isdigit()
    group, pos = candidates("acct-0042", 10, "acct-0042")
    assert len(set(group)) == 10 and group[pos] == "acct-0042"
    pool = [f"p{i}" for i in range(100)]
    group, pos = candidates("x", 10, "x", pool)
    assert group[pos] == "x" and all(g in pool for i, g in enumerate(group) if i != pos)


def test_ot_decoys_uses_the_pool_and_answers_only_the_choice():
    table = build(n=60)
    pool = PublicDecoyPool([f"CUST-{i:05d}" for i in range(60)], source="test directory")
    res, srv = query(table, ["cust-00005", "cust-99999"], mode="ot_decoys", decoys=4,
                     min_batch=2)
    assert res.found == [True, False] and srv.extra["candidates"] == 8
    from pir_support import SERVER

    from coalition.protocols.pir import run_client, run_server
    from coalition.testing import run_parties

    out = run_parties({CLIENT: lambda ctx: run_client(ctx, ["cust-00005"], server_key=table.verify_key,
                                                      params={"mode": "ot_decoys", "decoys": 4},
                                                      decoy_pool=pool),
                       SERVER: lambda ctx: run_server(ctx, table)}, timeout=30)
    assert out[CLIENT].payloads == [b"score=5"]


class _TwoWorkers:
    workers = 2

    @staticmethod
    def map(fn, items):
        return [fn(x) for x in items]


def test_ot_pads_split_over_workers_match_the_serial_ones():
    a, a_point = ot_kn.sender_setup()
    choices = [i % 9 for i in range(40)]
    scalars, points = ot_kn.receiver_choose(a_point, choices, 9)
    serial = ot_kn.sender_pads(a, a_point, points, 9, length=8)
    split = ot_kn.sender_pads(a, a_point, points, 9, length=8, executor=_TwoWorkers())
    assert np.array_equal(serial, split)
    mine = ot_kn.receiver_pads(a_point, scalars, points, choices, k=9, length=8)
    assert all(np.array_equal(split[i, c], mine[i]) for i, c in enumerate(choices))
