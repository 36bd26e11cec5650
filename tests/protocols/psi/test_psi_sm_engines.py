"""KKRT and OPRF PSI under the ``sm`` crypto suite (SM2 base OTs / OPRF group, SM3, SM4): the
same results as under ``standard``, and a party on one suite never runs with the other."""

import pytest

from coalition.core import Party
from coalition.core.errors import ConfigError, PeerError
from coalition.protocols.psi import PrfTable, PsiParams, run_guest, run_host
from coalition.testing import PartyFailure, run_parties

G, H = Party.guest(), Party.host("h1")
GUEST_IDS = [f"acct-{i:05d}" for i in range(0, 300)]
HOST_IDS = [f"acct-{i:05d}" for i in range(150, 900)][::-1]
SHARED = sorted(set(GUEST_IDS) & set(HOST_IDS))


def _run(gparams, hparams=None, *, table=None):
    out = run_parties({G: lambda ctx: run_guest(ctx, GUEST_IDS, gparams),
                       H: lambda ctx: run_host(ctx, HOST_IDS, hparams or gparams,
                                               prf_table=table)}, timeout=60)
    return out[G], out[H]


@pytest.mark.parametrize(("protocol", "delivery"), [("kkrt", "both"), ("kkrt", "guest"),
                                                    ("oprf", "both")])
def test_sm_suite_gives_the_standard_result(protocol, delivery):
    params = {"protocol": protocol, "delivery": delivery, "batch_rows": 256}
    standard = _run({**params, "suite": "standard"})
    sm = _run({**params, "suite": "sm"})
    for ours, theirs in zip(sm, standard, strict=True):
        assert ours.size == theirs.size == len(SHARED)
        assert ours.ids == theirs.ids
        if theirs.indices is not None:
            assert list(ours.indices) == list(theirs.indices)
    assert sm[0].ids == SHARED


def test_auto_runs_kkrt_under_sm_too():
    assert PsiParams.parse({"suite": "sm"}).for_parties(1).protocol.value == "kkrt"
    assert PsiParams.parse({"suite": "sm", "delivery": "cardinality"}).for_parties(1) \
        .protocol.value == "ecdh"


@pytest.mark.parametrize("protocol", ["kkrt", "oprf"])
def test_a_partner_on_the_other_suite_is_refused(protocol):
    with pytest.raises(PartyFailure) as err:
        _run({"protocol": protocol, "suite": "sm"}, {"protocol": protocol, "suite": "standard"})
    assert isinstance(err.value.error, ConfigError | PeerError)


def test_prf_table_of_another_suite_is_not_used(tmp_path):
    standard = PrfTable(tmp_path / "t", prf_bytes=12)
    epoch = standard.epoch
    with pytest.raises(PartyFailure) as err:
        _run({"protocol": "oprf", "suite": "sm"}, table=standard)
    assert isinstance(err.value.error, ConfigError | PeerError)
    # reopened under sm, the saved standard key is not reused: a new epoch in the SM2 group
    sm = PrfTable(tmp_path / "t", prf_bytes=12, suite="sm")
    assert sm.epoch != epoch and sm.key.suite == "sm"
    g, _ = _run({"protocol": "oprf", "suite": "sm"}, table=sm)
    assert g.ids == SHARED
