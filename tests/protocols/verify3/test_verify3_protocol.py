"""Three-element verification: every match/mismatch combination under both crypto suites,
canonical forms, the table cache, the quota and suite refusals."""

import pytest

from coalition.core import Party
from coalition.core.errors import InputError, ProtocolError
from coalition.protocols.pir import QuotaBook, QuotaExceededError, ServerControls
from coalition.protocols.verify3 import (
    VerificationTable,
    Verify3Flags,
    canonical_triple,
    check_batch,
    run_bank,
    run_telco,
)
from coalition.testing import PartyFailure, run_parties

BANK, TELCO = Party.guest("bank"), Party.host("telco")
RECORDS = [
    ("+86 138-0013-8000", "Zhang San", "110105194912310021"),
    ("13900139000", "李四", "11010519491231002X"),
    ("13700137000", "Wang  Wu", "320102198001010011"),
]
CASES = [  # (bank triple, expected phone_found, name_match, id_match)
    (("+86 138-0013-8000", "Zhang San", "110105194912310021"), (True, True, True)),
    (("+86 138-0013-8000", "Zhang Si", "110105194912310021"), (True, False, True)),
    (("+86 138-0013-8000", "Zhang San", "110105194912310099"), (True, True, False)),
    (("+86 138-0013-8000", "Li Si", "999"), (True, False, False)),
    (("+86 150-0000-0000", "Zhang San", "110105194912310021"), (False, False, False)),
    # canonical forms: phone punctuation, case, whitespace, full-width, ID check letter case
    (("008613800138000", "  zhang   SAN ", "1101 0519 4912 3100 21"), (True, True, True)),
    (("13900139000", "李四", "11010519491231002x"), (True, True, True)),
    (("１３９００１３９０００", " 李四 ", "110105-19491231-002X"), (True, True, True)),
    (("13700137000", "wang wu", "320102198001010011"), (True, True, True)),
    # a name or ID that is right for another phone does not match this one
    (("13700137000", "Zhang San", "110105194912310021"), (True, False, False)),
]


def _run(table, triples, *, params=None, controls=None, wrap=None, cached=None):
    out = run_parties(
        {BANK: lambda ctx: run_bank(ctx, triples, params or {"suite": table.suite.value},
                                    cached=cached),
         TELCO: lambda ctx: run_telco(ctx, table, controls=controls)},
        wrap=wrap, timeout=30)
    return out[BANK], out[TELCO]


@pytest.fixture(scope="module", params=["standard", "sm"])
def table(request):
    return VerificationTable.build(RECORDS, suite=request.param)


def test_every_combination_of_match_and_mismatch(table):
    res, served = _run(table, [c[0] for c in CASES])
    assert [(f.phone_found, f.name_match, f.id_match) for f in res.flags] == [c[1] for c in CASES]
    assert res.flags[0].all_match and not res.flags[1].all_match
    assert res.manifest.rows == 3 and res.summary["table"] == "full"
    # 10 triples pad to 16 (min_batch), three elements each: all the telco sees
    assert served["padded_elements"] == 48 and res.summary["padded_elements"] == 48


def test_cached_table_is_not_sent_again(table):
    first, _ = _run(table, [CASES[0][0]])
    second, served = _run(table, [CASES[0][0]], cached=(first.manifest, table.tags))
    assert served["table"] == "cached" and second.flags == [Verify3Flags(True, True, True)]
    assert second.summary["bytes_received"] < first.summary["bytes_received"]


def test_quota_counts_every_evaluation_and_refuses_on_both_sides(table):
    controls = ServerControls(quota=QuotaBook(limit=60))
    _run(table, [CASES[0][0]], controls=controls)  # 16 triples padded: 48 elements
    with pytest.raises(PartyFailure) as info:
        _run(table, [CASES[0][0]], controls=controls)
    assert isinstance(info.value.error, QuotaExceededError)
    assert info.value.error.details["limit"] == 60 and info.value.error.details["requested"] == 48
    assert controls.quota.used(str(BANK), table.epoch) == 48  # the refusal counted nothing
    assert [r.size for r in controls.log.records] == [48]


def test_a_bank_on_another_suite_is_refused(table):
    other = "sm" if table.suite.value == "standard" else "standard"
    with pytest.raises(PartyFailure, match="suite"):
        _run(table, [CASES[0][0]], params={"suite": other})


def test_canonical_forms_and_bad_input():
    assert canonical_triple("+86 138 0013 8000", " ZHANG\tsan ", "1101-05x") == \
        canonical_triple("008613800138000", "zhang san", "110105X")
    with pytest.raises(InputError):
        canonical_triple("13800138000", "   ", "1")
    with pytest.raises(InputError, match="appears in two records"):
        VerificationTable.build([RECORDS[0], ("8613800138000", "x", "1")])
    with pytest.raises(ProtocolError):
        check_batch(4)


def test_table_round_trips_through_its_folder(table, tmp_path):
    table.save(tmp_path / "t")
    again = VerificationTable.load(tmp_path / "t")
    assert again.manifest == table.manifest
    assert (tmp_path / "t" / "key").stat().st_mode & 0o077 == 0
    res, _ = _run(again, [CASES[0][0]])
    assert res.flags == [Verify3Flags(True, True, True)]
