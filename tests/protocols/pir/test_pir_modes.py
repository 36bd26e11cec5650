"""Correctness of every mode: hits, misses, duplicates, empty batch, unicode, long payloads."""

import json

import pytest
from pir_support import MODES, build, query

from coalition.protocols.pir import PirTable, TableSettings, padded_size


@pytest.mark.parametrize("mode", MODES)
def test_hits_misses_and_duplicates_in_query_order(table, mode):
    ids = ["cust-00007", "nobody", "CUST-00007 ", "cust-00299", "cust-00300", "cust-00007"]
    res, srv = query(table, ids, mode=mode)
    assert res.queries == ids
    assert res.found == [True, False, True, True, False, True]
    assert res.payloads == [b"score=7", None, b"score=7", b"score=8", None, b"score=7"]
    assert res.summary.unique == 4 and res.summary.found == 4
    assert srv.padded == res.summary.padded == 16 and srv.mode == mode


@pytest.mark.parametrize("mode", MODES)
def test_empty_batch_looks_like_a_small_one(table, mode):
    res, srv = query(table, [], mode=mode)
    assert len(res) == 0 and res.found == [] and srv.padded == 16


def test_padding_hides_batch_size(table):
    assert padded_size(0, 16) == padded_size(1, 16) == padded_size(16, 16) == 16
    assert padded_size(17, 16) == 32 and padded_size(1000, 16) == 1024
    _, s1 = query(table, ["cust-00001"])
    _, s2 = query(table, [f"cust-{i:05d}" for i in range(15)])
    assert s1.padded == s2.padded == 16
    assert s1.bytes_received == s2.bytes_received  # what the server receives is the same size


@pytest.mark.parametrize("mode", MODES)
def test_unicode_ids_and_long_payloads(mode):
    ids = ["张三-13800138000", "Zoë", "مرحبا", "😀-user"]
    payloads = ["风险评分=高".encode() * 200, b"x" * 4000, b"", "標籤".encode()]
    t = build(ids=ids, payloads=payloads, payload_bytes=4096, bucket_bits=1)
    res, _ = query(t, ["zoë", "張三", "😀-USER", "张三-13800138000", "مرحبا"], mode=mode)
    assert res.found == [True, False, True, True, True]
    assert res.payloads == [b"x" * 4000, None, "標籤".encode(), payloads[0], b""]


def test_json_payload_table_and_frame(tmp_path):
    t = PirTable(TableSettings("tags", 64, bucket_bits=2, payload_format="json",
                               columns=("risk", "tag")))
    t.sync(["a", "b"], [json.dumps({"risk": "0.9", "tag": "vip"}).encode(),
                        json.dumps({"risk": "0.1", "tag": "新"}).encode()])
    res, _ = query(t, ["b", "zz", "a"], mode="bucketed")
    assert res.value(0) == {"risk": "0.1", "tag": "新"} and res.value(1) is None
    frame = res.to_frame()
    assert list(frame.columns) == ["id", "found", "risk", "tag"]
    assert frame["tag"][[0, 2]].tolist() == ["新", "vip"] and frame["tag"].isna()[1]


def test_payload_longer_than_table_width_is_refused():
    from coalition.core.errors import InputError

    with pytest.raises(InputError, match="payload longer"):
        build(ids=["a"], payloads=[b"x" * 33], payload_bytes=32)


def test_bucketed_downloads_only_the_requested_buckets():
    t = build(n=2000, bucket_bits=6)
    res, srv = query(t, ["cust-00010"], mode="bucketed", min_batch=1)
    assert res.found == [True] and srv.padded == 1 and srv.extra["buckets"] == 1
    assert srv.extra["records_sent"] < 2000 / 64 * 3  # one bucket, about n / 2^b rows


def test_duplicate_ids_in_the_table_are_refused():
    from coalition.core.errors import InputError

    with pytest.raises(InputError, match="duplicate"):
        build(ids=["a", "A"], payloads=[b"1", b"2"])


def test_numeric_query_ids_match_string_rows_and_bad_ids_fail_before_sending():
    from coalition.core.errors import InputError
    from coalition.testing import PartyFailure

    t = build(ids=["12", "13"], payloads=[b"a", b"b"])
    res, _ = query(t, [12, 13.0, "14"])
    assert res.queries == ["12", "13", "14"] and res.found == [True, True, False]
    with pytest.raises(PartyFailure) as err:
        query(t, ["12", None])
    assert isinstance(err.value.error, InputError) and err.value.error.details["row"] == 1
