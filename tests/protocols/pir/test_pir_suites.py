"""PIR under the ``sm`` crypto suite (SM2 OPRF/OT group, SM3 tags and KDF, SM4-GCM records):
every mode answers as under ``standard``, the wire carries no query-derived value, and a client
on one suite refuses a table of the other before sending anything about its queries."""

import hashlib

import pytest
from pir_support import CLIENT, MODES, SERVER

from coalition.core.errors import ConfigError, CryptoError
from coalition.crypto import oprf
from coalition.crypto.signing import SigningKey
from coalition.crypto.sm import group as sm_group
from coalition.crypto.sm import sm3
from coalition.protocols.pir import PirTable, TableSettings, run_client, run_server
from coalition.protocols.pir.manifest import SignedManifest
from coalition.protocols.pir.records import PRF_BYTES, derive_tag
from coalition.testing import PartyFailure, Recorder, find_leaks, run_parties

IDS = [f"customer-{i:06d}" for i in range(120)]
PAYLOADS = [f"secret-score-{i:04d}".encode() for i in range(120)]
QUERIES = ["customer-000017", "customer-000099", "customer-999999"]


@pytest.fixture(scope="module")
def tables():
    out = {}
    for suite in ("standard", "sm"):
        table = PirTable(TableSettings("risk", 32, bucket_bits=3, suite=suite))
        table.sync(IDS, PAYLOADS)
        out[suite] = table
    return out


def _query(table, *, mode, suite, rec=None, ids=QUERIES):
    params = {"mode": mode, "decoys": 8, "suite": suite}
    out = run_parties(
        {CLIENT: lambda ctx: run_client(ctx, ids, server_key=table.verify_key,
                                        params=params),
         SERVER: lambda ctx: run_server(ctx, table)},
        wrap=rec.wrap if rec else None, timeout=60)
    return out[CLIENT]


@pytest.mark.parametrize("mode", MODES)
def test_sm_tables_answer_as_standard_ones(tables, mode):
    sm = _query(tables["sm"], mode=mode, suite="sm")
    standard = _query(tables["standard"], mode=mode, suite="standard")
    assert sm.found == standard.found == [True, True, False]
    assert sm.payloads == standard.payloads == [PAYLOADS[17], PAYLOADS[99], None]
    assert tables["sm"].signed.body != tables["standard"].signed.body  # the suite is signed


@pytest.mark.parametrize("mode", ["download", "bucketed"])
def test_sm_wire_carries_no_query_id_hash_or_prf(tables, mode):
    table = tables["sm"]
    rec = Recorder()
    _query(table, mode=mode, suite="sm", rec=rec)
    leaks: list[bytes | str] = []
    for q in QUERIES:
        raw = q.encode()
        leaks += [raw, q, hashlib.sha256(raw).digest(), sm3(raw), sm3(raw)[:16],
                  sm_group.hash_to_group(raw, b"HashToGroup-" + oprf.SM_CONTEXT)]
    prfs = [p[:PRF_BYTES] for p in table.prf.key.evaluate_direct([q.encode() for q in QUERIES])]
    leaks += prfs + [derive_tag(p, "sm") for p in prfs]
    assert rec.sent_by(CLIENT)
    assert find_leaks(rec.sent_by(CLIENT), leaks) == []
    assert find_leaks(rec.sent_by(SERVER), PAYLOADS) == []


@pytest.mark.parametrize(("table_suite", "client_suite"), [("standard", "sm"),
                                                           ("sm", "standard")])
def test_a_client_refuses_a_table_of_the_other_suite(tables, table_suite, client_suite):
    rec = Recorder()
    with pytest.raises(PartyFailure) as err:
        _query(tables[table_suite], mode="ot_decoys", suite=client_suite, rec=rec)
    assert isinstance(err.value.error, ConfigError)
    # refused at the manifest: no candidate ID and no blinded element left the client
    assert all(m.key.endswith("pir_hello") for m in rec.sent_by(CLIENT))


def test_sm_table_signs_its_manifest_with_sm2_and_reopens(tmp_path):
    table = PirTable(TableSettings("risk", 32, bucket_bits=2, suite="sm"), tmp_path / "t")
    table.sync(IDS[:20], PAYLOADS[:20])
    assert table.verify_key.suite.value == "sm"
    table.signed.verify(table.verify_key, "risk")
    reopened = PirTable.open(tmp_path / "t")
    assert reopened.verify_key == table.verify_key and reopened.epoch == table.epoch
    # an Ed25519 key cannot stand in for the table's SM2 key, even over the same body
    ed = SigningKey.generate()
    forged = SignedManifest(table.signed.body, ed.sign(b"coalition-pir/manifest\x00"
                                                      + table.signed.body))
    with pytest.raises(CryptoError):
        forged.verify(ed.verify_key, "risk")


def test_sm_table_commits_to_an_sm3_merkle_tree(tables):
    from coalition.protocols.pir.manifest import Manifest, bucket_bounds

    for suite, hash_ in (("standard", lambda b: hashlib.sha256(b).digest()), ("sm", sm3)):
        table = tables[suite]
        m = Manifest.from_bytes(table.signed.body)
        bounds = bucket_bounds(table.records, 3)
        level = [hash_(b"\x00coalition-pir/bucket" + j.to_bytes(4, "big")
                       + table.records[bounds[j]:bounds[j + 1]].tobytes()) for j in range(8)]
        while len(level) > 1:  # spelled out: RFC 6962-style leaves and inner nodes
            level = [hash_(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        assert m.suite == suite and m.root == level[0].hex()


@pytest.mark.parametrize("mode", ["download", "bucketed"])
def test_sm_client_detects_a_tampered_record(mode):
    table = PirTable(TableSettings("risk", 32, bucket_bits=3, suite="sm"))
    table.sync(IDS, PAYLOADS)
    table.records = table.records.copy()
    table.records[5, -1] ^= 1
    # Every ID, so the bucket holding the altered record is fetched whatever bucket the key
    # epoch put it in (three IDs touch three of eight buckets: the check would be luck).
    with pytest.raises(PartyFailure) as err:
        _query(table, mode=mode, suite="sm", ids=IDS)
    assert isinstance(err.value.error, CryptoError) and "manifest" in str(err.value.error)


def test_sm_tables_digest_ids_with_sm3_and_older_epochs_keep_sha256(tmp_path):
    import json

    from coalition.protocols.psi.oprf.cache import id_digests

    table = PirTable(TableSettings("risk", 32, bucket_bits=2, suite="sm"), tmp_path / "t")
    table.sync(IDS[:20], PAYLOADS[:20])
    assert table.prf.id_digest == "sm3"
    assert table.digests[0].tobytes() in {sm3(x.encode())[:16] for x in IDS[:20]}
    # a table saved before the digest was recorded (meta without id_digest) used SHA-256:
    # reopened, it keeps matching its rows by SHA-256 until the next key rotation
    meta_file = tmp_path / "t" / "prf" / "meta.json"
    meta = json.loads(meta_file.read_text())
    del meta["id_digest"]
    meta_file.write_text(json.dumps(meta))
    old = PirTable.open(tmp_path / "t")
    by_sm3 = {sm3(x.encode())[:16]: x for x in IDS[:20]}
    for holder in (old, old.prf):  # what the older build stored, row for row
        holder.digests = id_digests([by_sm3[d.tobytes()] for d in holder.digests], "sha256")
    assert old.prf.id_digest == "sha256"
    stats = old.sync(IDS[:20], PAYLOADS[:20])
    assert stats.unchanged == 20 and stats.prf_evaluated == 0
    old.rotate_key()
    assert old.prf.id_digest == "sm3"
