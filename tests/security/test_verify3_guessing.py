"""Hostile bank against three-element verification: guessing a record's name one OPRF
evaluation at a time runs into the telco's quota (and the refusal costs nothing); a job that
proposes verify3 under another crypto suite than the federation's is refused by the policy.
The node service's grant check: ``tests/security/test_verify3_attack.py`` (a partner without a
grant is refused before anything is evaluated)."""

import pytest

from coalition.core import Party
from coalition.crypto.suite import CryptoSuite
from coalition.engine.dag import parse_dag
from coalition.engine.policy import PrivacyPolicy, check
from coalition.engine.validate import validate_dag
from coalition.protocols.pir import QuotaBook, QuotaExceededError, ServerControls
from coalition.protocols.verify3 import VerificationTable, run_bank, run_telco
from coalition.testing import PartyFailure, run_parties

BANK, TELCO = Party.guest("bank"), Party.host("telco")
SECRET_NAME = "Ouyang Mingyue"
RECORDS = [("13800138000", SECRET_NAME, "110105194912310021"),
           ("13900139000", "Li Si", "11010519491231002X")]
GUESSES = ["Zhang San", "Li Si", "Wang Wu", "Zhao Liu", "Sun Qi", "Zhou Ba", "Wu Jiu",
           "Zheng Shi", SECRET_NAME]


def test_guessing_a_name_runs_into_the_quota():
    table = VerificationTable.build(RECORDS)
    # the telco allows 4 padded batches of one triple (min_batch 1: 3 elements each)
    controls = ServerControls(quota=QuotaBook(limit=12))
    learnt, refused = [], 0
    for guess in GUESSES:
        try:
            out = run_parties(
                {BANK: lambda ctx, g=guess: run_bank(ctx, [("13800138000", g, "0")],
                                                     {"min_batch": 1}),
                 TELCO: lambda ctx: run_telco(ctx, table, controls=controls)}, timeout=20)
        except PartyFailure as exc:
            assert isinstance(exc.error, QuotaExceededError)
            refused += 1
            continue
        if out[BANK].flags[0].name_match:
            learnt.append(guess)
    assert learnt == [] and refused == len(GUESSES) - 4  # the real name came after the quota
    assert controls.quota.used(str(BANK), table.epoch) == 12
    # a batch of guesses at once pays for every guess too: 9 triples pad to 16, 48 elements
    fresh = ServerControls(quota=QuotaBook(limit=40))
    with pytest.raises(PartyFailure) as err:
        run_parties({BANK: lambda ctx: run_bank(ctx, [("13800138000", g, "0") for g in GUESSES]),
                     TELCO: lambda ctx: run_telco(ctx, table, controls=fresh)}, timeout=20)
    assert isinstance(err.value.error, QuotaExceededError)
    assert fresh.quota.used(str(BANK), table.epoch) == 0 and fresh.log.records == []


def _job(params):
    return validate_dag(parse_dag({
        "version": 1, "name": "v", "parties": {"guest": ["g"], "host": ["h"]}, "tasks": {
            "read": {"component": "reader", "parameters": {"path": "x"}},
            "v3": {"component": "verify3", "parameters": params,
                   "inputs": {"data": "read.data"}}}}))


def test_a_node_on_sm_refuses_a_verify3_job_under_standard():
    sites = {"guest:g": "bank", "host:h": "telco"}
    sm_node = PrivacyPolicy(owner="telco", crypto_suite=CryptoSuite.SM)
    assert [v.rule for v in check(_job({}), sites, sm_node)] == ["policy.crypto_suite"]
    assert check(_job({"suite": "sm"}), sites, sm_node) == []
    assert [v.rule for v in check(_job({"suite": "sm"}), sites, PrivacyPolicy(owner="telco"))] \
        == ["policy.crypto_suite"]
