"""Table lifecycle: deltas between versions, key rotation, persistence, tamper detection."""

import numpy as np
import pytest
from pir_support import build, query

from coalition.core.errors import ConfigError, CryptoError
from coalition.crypto.signing import SigningKey
from coalition.protocols.pir import PirTable, SignedManifest, TableSettings
from coalition.protocols.psi import ClientTableCache
from coalition.testing import PartyFailure

IDS = [f"u{i}" for i in range(300)]


def _payloads(ids, tweak=None):
    return [(b"changed" if x == tweak else x.encode() + b"-p") for x in ids]


def test_deltas_rotation_and_persistence(tmp_path):
    table = build(ids=IDS, payloads=_payloads(IDS), path=tmp_path / "srv")
    cache = ClientTableCache(tmp_path / "cli")
    res, srv = query(table, ["u1", "u2"], cache=cache, table_id="risk-scores")
    assert srv.table_transfer == "full" and res.payloads == [b"u1-p", b"u2-p"]

    # u1 removed, u2's payload changed, u900 added; the server restarts from disk
    ids2 = [x for x in IDS if x != "u1"] + ["u900"]
    table = PirTable.open(tmp_path / "srv")
    stats = table.sync(ids2, _payloads(ids2, tweak="u2"))
    assert (stats.added, stats.changed, stats.removed, stats.prf_evaluated) == (1, 1, 1, 1)
    res, srv = query(table, ["u1", "u2", "u900", "u3"], cache=cache, table_id="risk-scores")
    assert srv.table_transfer == "delta" and srv.extra["records_sent"] == 2
    assert res.payloads == [None, b"changed", b"u900-p", b"u3-p"]

    # nothing changed: an empty delta; a third version still chains from the cached copy
    res, srv = query(table, ["u900"], cache=cache, table_id="risk-scores")
    assert srv.table_transfer == "delta" and srv.extra["records_sent"] == 0
    ids3 = [*ids2, "u901"]
    table.sync(ids3, _payloads(ids3, tweak="u2"))
    res, srv = query(table, ["u901"], cache=cache, table_id="risk-scores")
    assert srv.table_transfer == "delta" and res.found == [True]

    # rotation: new epoch, every row re-encrypted, clients get the full table again
    old_epoch = table.epoch
    table.rotate_key()
    stats = table.sync(ids2, _payloads(ids2))
    assert table.epoch != old_epoch and stats.prf_evaluated == len(ids2)
    res, srv = query(table, ["u2"], cache=cache, table_id="risk-scores")
    assert srv.table_transfer == "full" and res.payloads == [b"u2-p"]


def test_unchanged_sync_is_a_no_op():
    table = build(ids=IDS, payloads=_payloads(IDS))
    before = table.records.copy()
    stats = table.sync(IDS, _payloads(IDS))
    assert stats.version == 1 and stats.unchanged == 300 and stats.prf_evaluated == 0
    assert np.array_equal(before, table.records)


@pytest.mark.parametrize("mode", ["download", "bucketed"])
def test_tampered_record_is_detected(mode):
    table = build(ids=IDS, payloads=_payloads(IDS))
    table.records = table.records.copy()
    table.records[5, -1] ^= 1  # the server (or a man in the middle) alters one ciphertext
    with pytest.raises(PartyFailure) as err:
        query(table, IDS, mode=mode)
    assert isinstance(err.value.error, CryptoError)
    assert "manifest" in str(err.value.error)


def test_tampered_or_foreign_manifest_is_detected():
    table = build(ids=IDS, payloads=_payloads(IDS))
    good = table.signed
    table.signed = SignedManifest(good.body.replace(b'"rows":300', b'"rows":301'), good.signature)
    with pytest.raises(PartyFailure) as err:
        query(table, ["u1"])
    assert isinstance(err.value.error, CryptoError) and "signature" in str(err.value.error)

    table.signed = good
    with pytest.raises(PartyFailure) as err:  # pinned key of another server
        query(table, ["u1"], key=SigningKey.generate().verify_key)
    assert isinstance(err.value.error, CryptoError)

    with pytest.raises(PartyFailure) as err:  # right server, wrong table
        query(table, ["u1"], table_id="another-table")
    assert isinstance(err.value.error, CryptoError) and "another table" in str(err.value.error)


def test_table_settings_follow_the_parameter_contract(tmp_path):
    """One ConfigError names every invalid setting (never the value); the settings round-trip
    through settings.json and a tampered file is refused."""
    with pytest.raises(ConfigError) as bad:
        TableSettings("", 0, bucket_bits=99, case="title", payload_format="xml")
    assert bad.value.details["fields"] == ["bucket_bits", "case", "payload_bytes",
                                           "payload_format", "table_id"]
    with pytest.raises(ConfigError):
        TableSettings("t", 16, colour="red")  # unknown keys refused
    settings = TableSettings("t", 16, bucket_bits=2, payload_format="json", columns=("a", "b"))
    assert TableSettings.from_dict(settings.to_dict()) == settings
    table = PirTable(settings, tmp_path / "t")
    table.sync(["x"], [b"{}"])
    assert PirTable.open(tmp_path / "t").settings == settings
    (tmp_path / "t" / "settings.json").write_text('{"table_id": "t", "payload_bytes": -1}')
    with pytest.raises(ConfigError):
        PirTable.open(tmp_path / "t")
