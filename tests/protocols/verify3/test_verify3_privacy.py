"""What crosses the wire in three-element verification: the bank sends no element of its
triples, no plain hash (SHA-256, SM3, ...) of one and no unblinded hash-to-group of one; the
telco sends no element of its records nor a hash of one, only PRF tags and OPRF answers."""

import hashlib

import pytest

from coalition.core import Party
from coalition.crypto import group, oprf
from coalition.crypto.oprf_suite import oprf_for
from coalition.crypto.sm.hash_to_curve import hash_to_curve
from coalition.crypto.sm.sm3 import sm3
from coalition.protocols.verify3 import (
    VerificationTable,
    canonical_triple,
    oprf_inputs,
    run_bank,
    run_telco,
)
from coalition.protocols.verify3.spec import V3_HELLO
from coalition.testing import Recorder, find_leaks, run_parties

BANK, TELCO = Party.guest("bank"), Party.host("telco")
RECORDS = [(f"1380013{i:04d}", f"Name {i}", f"11010519491231{i:04d}") for i in range(40)]
QUERIES = [
    ("13800130007", "Name 7", "110105194912310007"),  # all match
    ("13800130008", "Wrong Name", "110105194912310008"),  # name wrong
    ("13900000000", "Name 9", "110105194912310009"),  # phone missing
]


def _digests(raw: bytes) -> list[bytes]:
    ds = [hashlib.sha256(raw).digest(), hashlib.md5(raw).digest(), hashlib.sha1(raw).digest(),
          hashlib.sha512(raw).digest(), sm3(raw)]
    return [*ds, *[d[:16] for d in ds]]


def _secrets_of(triples, suite):
    out: list[bytes | str] = []
    for t in triples:
        canon = canonical_triple(*t)
        values = [*t, canon.phone, canon.name, canon.id_number]
        for v in values:
            out.append(v)
            out.extend(_digests(v.encode()))
            out.extend(d.hex() for d in _digests(v.encode()))
        for x in oprf_inputs(canon):
            out.extend(_digests(x))
            out.append(group.hash_to_group(x, b"HashToGroup-" + oprf.CONTEXT) if suite == "standard"
                       else hash_to_curve(x, b"HashToGroup-" + oprf.SM_CONTEXT))
    return out


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_no_element_or_hash_of_one_crosses_either_way(suite):
    table = VerificationTable.build(RECORDS, suite=suite)
    rec = Recorder()
    out = run_parties({BANK: lambda ctx: run_bank(ctx, QUERIES, {"suite": suite}),
                       TELCO: lambda ctx: run_telco(ctx, table)}, wrap=rec.wrap, timeout=30)
    flags = out[BANK].flags
    assert [(f.phone_found, f.name_match, f.id_match) for f in flags] == [
        (True, True, True), (True, False, True), (False, False, False)]
    sent_by_bank, sent_by_telco = rec.sent_by(BANK), rec.sent_by(TELCO)
    assert sent_by_bank and sent_by_telco
    assert find_leaks(sent_by_bank, _secrets_of(QUERIES, suite)) == []
    assert find_leaks(sent_by_telco, _secrets_of(RECORDS, suite)) == []
    # the OPRF outputs the bank computed never go back to the telco
    mine = [x for t in QUERIES for x in oprf_inputs(canonical_triple(*t))]
    assert find_leaks(sent_by_bank, table_outputs(table, mine)) == []


def table_outputs(table, inputs):
    """``F_k`` on ``inputs`` with the telco's key (the test reads the private key)."""
    outs = oprf_for(table.suite).evaluate_direct(table._key, inputs)
    return [*outs, *[o[:16] for o in outs]]


def test_the_recorder_would_catch_a_leak():
    """The check is live: a bank message carrying a SHA-256 of a phone is found."""
    rec = Recorder()
    phone = QUERIES[0][0]
    def leaky_bank(ctx):
        ctx.send(ctx.hosts[0], V3_HELLO, {"x": hashlib.sha256(phone.encode()).digest()})

    run_parties({BANK: leaky_bank, TELCO: lambda ctx: None}, wrap=rec.wrap, timeout=5)
    assert find_leaks(rec.sent_by(BANK), _secrets_of(QUERIES[:1], "standard")) != []
