"""What crosses the wire: the server never receives a query ID or a plain hash of one; the
client can open only the rows it queried."""

import hashlib

import numpy as np
import pytest
from pir_support import CLIENT, SERVER, build, query

from coalition.core.errors import CryptoError
from coalition.crypto import group, oprf
from coalition.protocols.pir.records import PRF_BYTES, RecordLayout, derive_tag, open_record
from coalition.testing import Recorder, find_leaks

IDS = [f"customer-{i:06d}" for i in range(200)]
PAYLOADS = [f"secret-score-{i:04d}".encode() for i in range(200)]
QUERIES = ["customer-000017", "customer-000123", "customer-999999"]


def _hashes(x: str) -> list[bytes | str]:
    raw = x.encode()
    digests = [hashlib.sha256(raw).digest(), hashlib.md5(raw).digest(), hashlib.sha1(raw).digest(),
               hashlib.sha256(raw).digest()[:16]]
    h1 = group.hash_to_group(raw, b"HashToGroup-" + oprf.CONTEXT)  # the OPRF's unblinded H1(x)
    return [*digests, *[d.hex() for d in digests], h1, raw]


@pytest.mark.parametrize("mode", ["download", "bucketed"])
def test_server_never_receives_query_ids_or_their_hashes(mode):
    table = build(ids=IDS, payloads=PAYLOADS)
    rec = Recorder()
    res, _ = query(table, QUERIES, mode=mode, rec=rec)
    assert res.found == [True, True, False]
    secrets_of_client = [v for q in QUERIES for v in _hashes(q)]
    # the PRF values and tags the client computed must not go back either
    key = table.prf.key
    prfs = [p[:PRF_BYTES] for p in key.evaluate_direct([q.encode() for q in QUERIES])]
    secrets_of_client += prfs + [derive_tag(p) for p in prfs]
    assert rec.sent_by(CLIENT)
    assert find_leaks(rec.sent_by(CLIENT), secrets_of_client) == []


def test_ot_decoys_reveals_the_candidates_but_not_the_choice():
    table = build(ids=IDS, payloads=PAYLOADS)
    rec = Recorder()
    res, _ = query(table, QUERIES[:1], mode="ot_decoys", rec=rec, decoys=10, min_batch=1)
    assert res.found == [True]
    sent = [m.value() for m in rec.sent_by(CLIENT) if m.key.endswith("pir_choices")]
    assert len(sent) == 1 and QUERIES[0] in sent[0]["ids"] and len(sent[0]["ids"]) == 10
    # the other nine look like customer IDs too (format-preserving decoys)
    assert all(len(x) == len(QUERIES[0]) and x.startswith("customer-") for x in sent[0]["ids"])


def test_payloads_never_travel_in_clear_and_only_queried_rows_open():
    table = build(ids=IDS, payloads=PAYLOADS)
    rec = Recorder()
    query(table, QUERIES, mode="download", rec=rec)
    assert find_leaks(rec.sent_by(SERVER), PAYLOADS) == []
    # the client holds every record now; its OPRF outputs open only its own rows
    records = table.records
    layout = RecordLayout(32)
    key = table.prf.key
    mine = [p[:PRF_BYTES] for p in key.evaluate_direct([q.encode() for q in QUERIES])]
    opened = 0
    for rec_row in records:
        for prf in mine:
            try:
                open_record(rec_row.tobytes(), prf, layout, "risk-scores", table.epoch)
                opened += 1
            except CryptoError:
                pass
    assert opened == 2  # customer-000017 and customer-000123; the miss opens nothing
    # keys a client could guess without the server's OPRF key open nothing
    row = records[0].tobytes()
    for x in IDS[:20]:
        for guess in (hashlib.sha256(x.encode()).digest(), hashlib.sha512(x.encode()).digest()[:32]):
            with pytest.raises(CryptoError):
                open_record(row, guess, layout, "risk-scores", table.epoch)


def test_record_bound_to_table_and_epoch():
    table = build(ids=IDS[:5], payloads=PAYLOADS[:5])
    prf = table.prf.key.evaluate_direct([IDS[0].encode()])[0][:PRF_BYTES]
    tag = derive_tag(prf)
    row = next(r.tobytes() for r in table.records if r[:16].tobytes() == tag)
    layout = RecordLayout(32)
    assert open_record(row, prf, layout, "risk-scores", table.epoch) == PAYLOADS[0]
    with pytest.raises(CryptoError):
        open_record(row, prf, layout, "another-table", table.epoch)
    with pytest.raises(CryptoError):
        open_record(row, prf, layout, "risk-scores", "0" * 32)
    moved = bytearray(row)
    moved[16:24] = (99).to_bytes(8, "big")  # another slot
    with pytest.raises(CryptoError):
        open_record(bytes(moved), prf, layout, "risk-scores", table.epoch)
    assert np.unique(table.records[:, 16:24], axis=0).shape[0] == 5  # slots are distinct
