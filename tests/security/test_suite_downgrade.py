"""A party configured for the ``sm`` crypto suite refuses a partner speaking ``standard``:
whether the partner says so in its agreed parameters or claims ``sm`` there and then announces
the standard group in the ECDH hello (the hostile partner)."""

import numpy as np
import pandas as pd
import pytest

from coalition.core import Party
from coalition.core.errors import ConfigError, CryptoError, InputError, PeerError, ProtocolError
from coalition.crypto import suite as suites
from coalition.protocols.psi import run_guest, run_host
from coalition.protocols.psi.ecdh import host as ecdh_host
from coalition.protocols.splitnn import HeteroNNParams, SplitNNDealer, SplitNNGuest, SplitNNHost
from coalition.protocols.splitnn.hostmask import HostMasks
from coalition.testing import PartyFailure, Recorder, run_parties

G, H = Party.guest(), Party.host("h1")
IDS = [f"id{i}" for i in range(40)]


def test_sm_guest_refuses_a_standard_partner():
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda ctx: run_guest(ctx, IDS, {"protocol": "ecdh", "suite": "sm"}),
                     H: lambda ctx: run_host(ctx, IDS, {"protocol": "ecdh"})}, timeout=20)
    assert isinstance(err.value.error, ConfigError)


def test_sm_guest_refuses_a_partner_that_claims_sm_but_speaks_standard(monkeypatch):
    monkeypatch.setattr(ecdh_host, "primitives",
                        lambda _name: suites.primitives(suites.CryptoSuite.STANDARD))
    rec = Recorder()
    params = {"protocol": "ecdh", "suite": "sm"}
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda ctx: run_guest(ctx, IDS, params),
                     H: lambda ctx: run_host(ctx, IDS, params)},
                    wrap=rec.wrap, timeout=20)
    assert isinstance(err.value.error, ConfigError)
    # the guest stopped at the hello: none of its encrypted IDs went to the hostile host
    assert rec.sent_by(G)
    assert all("self_encrypted" not in m.key for m in rec.sent_by(G))


def _psi_job(params: dict[str, object]):
    from coalition.engine.dag import parse_dag
    from coalition.engine.validate import validate_dag

    return validate_dag(parse_dag({
        "version": 1, "name": "p", "parties": {"guest": ["g"], "host": ["h"]}, "tasks": {
            "read": {"component": "reader", "parameters": {"path": "x"}},
            "psi": {"component": "psi", "parameters": params, "inputs": {"data": "read.data"}}}}))


def test_a_node_on_sm_refuses_a_job_proposing_standard_psi():
    from coalition.engine.policy import PrivacyPolicy, check

    sites = {"guest:g": "bank", "host:h": "telco"}
    sm_node = PrivacyPolicy(owner="telco", crypto_suite=suites.CryptoSuite.SM)
    for proposal in ({"protocol": "ecdh"}, {"protocol": "kkrt"}, {"suite": "standard"}):
        rules = [v.rule for v in check(_psi_job(proposal), sites, sm_node)]
        assert rules == ["policy.crypto_suite"]
    assert check(_psi_job({"protocol": "ecdh", "suite": "sm"}), sites, sm_node) == []
    # and a standard node refuses an sm job: the federation's suite, never the proposer's
    standard_node = PrivacyPolicy(owner="telco")
    rules = [v.rule for v in check(_psi_job({"suite": "sm"}), sites, standard_node)]
    assert rules == ["policy.crypto_suite"]


def _homo_job(params: dict[str, object]):
    from coalition.engine.dag import parse_dag
    from coalition.engine.validate import validate_dag

    return validate_dag(parse_dag({
        "version": 1, "name": "h", "parties": {"guest": ["g"], "host": ["h1", "h2"],
                                               "arbiter": ["a"]}, "tasks": {
            "read": {"component": "reader", "parameters": {"path": "x"}},
            "fl": {"component": "homo_lr", "parameters": params,
                   "inputs": {"train_data": "read.data"}}}}))


def test_a_node_on_sm_refuses_a_horizontal_job_with_standard_secagg():
    from coalition.engine.policy import PrivacyPolicy, check

    sites = {"guest:g": "bank", "host:h1": "telco", "host:h2": "insurer", "arbiter:a": "hub"}
    sm_node = PrivacyPolicy(owner="telco", crypto_suite=suites.CryptoSuite.SM)
    for proposal in ({}, {"suite": "standard"}):
        rules = [v.rule for v in check(_homo_job(proposal), sites, sm_node)]
        assert rules == ["policy.crypto_suite"]
    assert check(_homo_job({"suite": "sm"}), sites, sm_node) == []
    rules = [v.rule for v in check(_homo_job({"suite": "sm"}), sites, PrivacyPolicy(owner="telco"))]
    assert rules == ["policy.crypto_suite"]


def _task_job(component: str, params: dict[str, object], parties: dict[str, list[str]],
              inputs: dict[str, str]):
    from coalition.engine.dag import parse_dag
    from coalition.engine.validate import validate_dag

    return validate_dag(parse_dag({
        "version": 1, "name": "t", "parties": parties, "tasks": {
            "read": {"component": "reader", "parameters": {"path": "x"}},
            "task": {"component": component, "parameters": params, "inputs": inputs}}}))


@pytest.mark.parametrize(("component", "inputs", "extra"), [
    ("hetero_lr", {"train_data": "read.data"}, {"protocol": "ss"}),
    ("hetero_poisson", {"train_data": "read.data"}, {"protocol": "ss"}),
    ("data_split", {"data": "read.data"}, {}),
    ("feature_sample", {"data": "read.data"}, {}),
])
def test_a_node_on_sm_refuses_standard_prg_tasks(component, inputs, extra):
    """SS-LR's shares and the guest's secret draws run on the suite's PRG (SM4-CTR/HKDF-SM3
    under ``sm``): a proposer cannot move them back to ChaCha20/HKDF-SHA256."""
    from coalition.engine.policy import PrivacyPolicy, check

    parties = {"guest": ["g"], "host": ["h"], "arbiter": ["a"]}
    sites = {"guest:g": "bank", "host:h": "telco", "arbiter:a": "hub"}
    sm_node = PrivacyPolicy(owner="telco", crypto_suite=suites.CryptoSuite.SM)
    for proposal in ({**extra}, {**extra, "suite": "standard"}):
        rules = [v.rule for v in check(_task_job(component, proposal, parties, inputs), sites,
                                       sm_node)]
        assert "policy.crypto_suite" in rules
    agreed = check(_task_job(component, {**extra, "suite": "sm"}, parties, inputs), sites, sm_node)
    assert "policy.crypto_suite" not in [v.rule for v in agreed]
    refused = check(_task_job(component, {**extra, "suite": "sm"}, parties, inputs), sites,
                    PrivacyPolicy(owner="telco"))
    assert "policy.crypto_suite" in [v.rule for v in refused]


@pytest.mark.parametrize(("component", "protocol"), [
    ("hetero_lr", "he-arbiter"), ("hetero_lr", "he-guest"), ("hetero_poisson", "he-arbiter"),
    ("hetero_lr_multiclass", "he-arbiter"), ("hetero_lr_multiclass", "he-guest")])
def test_a_node_on_sm_refuses_he_linear_models_on_standard(component, protocol):
    """HE parts record the suite their prediction masks use (X25519/HKDF-SHA256/ChaCha20, or
    SM2/HKDF-SM3/SM4-CTR): a proposer cannot train an HE model on ``standard`` in an ``sm``
    federation, nor the reverse."""
    from coalition.engine.policy import PrivacyPolicy, check

    parties = ({"guest": ["g"], "host": ["h"], "arbiter": ["a"]} if protocol == "he-arbiter"
               else {"guest": ["g"], "host": ["h"]})
    sites = {"guest:g": "bank", "host:h": "telco", "arbiter:a": "hub"}
    sites = {p: o for p, o in sites.items() if p.split(":")[0] in parties}
    inputs = {"train_data": "read.data"}
    sm_node = PrivacyPolicy(owner="telco", crypto_suite=suites.CryptoSuite.SM)
    extra = {"protocol": protocol}
    for proposal in (extra, {**extra, "suite": "standard"}):
        rules = [v.rule for v in check(_task_job(component, proposal, parties, inputs), sites,
                                       sm_node)]
        assert "policy.crypto_suite" in rules
    agreed = check(_task_job(component, {**extra, "suite": "sm"}, parties, inputs), sites,
                   sm_node)
    assert "policy.crypto_suite" not in [v.rule for v in agreed]
    refused = check(_task_job(component, {**extra, "suite": "sm"}, parties, inputs), sites,
                    PrivacyPolicy(owner="telco"))
    assert "policy.crypto_suite" in [v.rule for v in refused]


def test_kkrt_guest_on_sm_refuses_a_host_that_claims_sm_but_runs_standard_base_ots(monkeypatch):
    from coalition.crypto import ot
    from coalition.protocols.psi.kkrt import sender

    def standard_ots(ctx, peer, choices, *, name, suite):  # the hostile host ignores the suite
        return ot.random_ot_receive(ctx, peer, choices, name=name)

    monkeypatch.setattr(sender, "random_ot_receive", standard_ots)
    rec = Recorder()
    params = {"protocol": "kkrt", "suite": "sm"}
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda ctx: run_guest(ctx, IDS, params),
                     H: lambda ctx: run_host(ctx, IDS, params)}, wrap=rec.wrap, timeout=20)
    assert isinstance(err.value.error, ConfigError | CryptoError | ProtocolError | PeerError)
    # the guest stopped at the base OTs: no row of its OT-extension matrix left it
    assert all("kkrt_matrix" not in m.key for m in rec.sent_by(G))


def test_oprf_host_on_sm_refuses_blinded_elements_of_the_standard_group(monkeypatch):
    from coalition.crypto import oprf
    from coalition.protocols.psi.oprf import client

    real_blind = oprf.blind
    monkeypatch.setattr(client.oprf, "blind",
                        lambda inputs, executor=None, suite="standard": real_blind(inputs))
    params = {"protocol": "oprf", "suite": "sm"}
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda ctx: run_guest(ctx, IDS, params),
                     H: lambda ctx: run_host(ctx, IDS, params)}, timeout=20)
    assert isinstance(err.value.error, ConfigError | CryptoError | ProtocolError | PeerError
                      | InputError)


def _predict_job(params: dict[str, object], model_suite: str):
    from coalition.engine.dag import parse_dag
    from coalition.engine.validate import validate_dag

    return validate_dag(parse_dag({
        "version": 1, "name": "t", "parties": {"guest": ["g"], "host": ["h"], "arbiter": ["a"]},
        "tasks": {
            "read": {"component": "reader", "parameters": {"path": "x"}},
            "lr": {"component": "hetero_lr", "inputs": {"train_data": "read.data"},
                   "parameters": {"protocol": "ss", "suite": model_suite}},
            "task": {"component": "predict", "parameters": params,
                     "inputs": {"model": "lr.model", "data": "read.data"}}}}))


@pytest.mark.parametrize(("component", "inputs", "extra"), [
    ("hetero_lr", {"train_data": "read.data"}, {"protocol": "he-arbiter"}),
    ("hetero_poisson", {"train_data": "read.data"}, {}),
    ("hetero_secureboost", {"train_data": "read.data"}, {}),
    ("hetero_nn", {"train_data": "read.data"}, {}),
    ("feature_groupby", {"data": "read.data"}, {}),
    ("predict", {}, {}),
])
def test_a_node_on_sm_refuses_standard_alignment_digests(component, inputs, extra):
    """Every vertical model sends ID-list digests to check alignment (SM3 under ``sm``): HE
    linear models, SecureBoost, split NN, group-by and predict take the suite too, so a
    proposer cannot move them back to SHA-256. (HE linear models took no suite before.)"""
    from coalition.engine.policy import PrivacyPolicy, check

    parties = {"guest": ["g"], "host": ["h"], "arbiter": ["a"]}
    sites = {"guest:g": "bank", "host:h": "telco", "arbiter:a": "hub"}
    if component in ("hetero_secureboost", "feature_groupby"):
        parties.pop("arbiter")
        sites.pop("arbiter:a")
    sm_node = PrivacyPolicy(owner="telco", crypto_suite=suites.CryptoSuite.SM)

    def rules(params, node):
        if component == "predict":  # its model comes from a model task (on the federation's suite)
            job = _predict_job(params, node.crypto_suite.value)
        else:
            job = _task_job(component, params, parties, inputs)
        return [v.rule for v in check(job, sites, node) if v.task == "task"]

    for proposal in ({**extra}, {**extra, "suite": "standard"}):
        assert "policy.crypto_suite" in rules(proposal, sm_node)
    assert "policy.crypto_suite" not in rules({**extra, "suite": "sm"}, sm_node)
    assert "policy.crypto_suite" in rules({**extra, "suite": "sm"}, PrivacyPolicy(owner="telco"))


def test_sm_split_nn_host_refuses_a_co_host_that_sends_a_standard_mask_key(monkeypatch,
                                                                           fate_data):
    """Split NN with two hosts, all on ``sm``, but one host (hostile) agrees its pair masks
    with an X25519 key: the honest host refuses the key and sends the guest no share of its
    interactive-layer product."""
    g = pd.read_csv(fate_data / "breast_hetero_guest.csv")
    h = pd.read_csv(fate_data / "breast_hetero_host.csv").set_index("id").loc[g["id"]]
    xg, y = g.drop(columns=["id", "y"]).to_numpy(np.float64), g["y"].to_numpy(np.float64)
    xh = np.array_split(h.to_numpy(np.float64), 2, axis=1)
    honest, hostile, arbiter = Party.host("h1"), Party.host("h2"), Party.arbiter()
    real = HostMasks.agree.__func__

    def agree(cls, ctx, purpose, suite="standard"):
        return real(cls, ctx, purpose, "standard" if ctx.party == hostile else suite)

    monkeypatch.setattr(HostMasks, "agree", classmethod(agree))
    params = HeteroNNParams(epochs=1, batch_size=64, suite="sm")
    rec = Recorder()
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda c: SplitNNGuest(params).fit(c, xg, y),
                     honest: lambda c: SplitNNHost(params).fit(c, xh[0]),
                     hostile: lambda c: SplitNNHost(params).fit(c, xh[1]),
                     arbiter: lambda c: SplitNNDealer(params).fit(c)},
                    wrap=rec.wrap, timeout=20)
    assert isinstance(err.value.error, ProtocolError)
    assert "mask key" in str(err.value.error)
    assert not any(m.key.endswith("/forward") for m in rec.sent_by(honest))
