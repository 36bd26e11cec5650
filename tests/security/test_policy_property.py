"""Property: for every built-in component and every protocol variant, a job the privacy policy
refuses never starts a worker on the refusing node.

Exhaustive over the registry (a new component without a case fails
``test_every_component_has_cases``). Per case the hostile initiator ``bank`` proposes over
telco's real peer endpoint, then tries to drive the job anyway (``JobStart``, ``TaskRun`` of
every task); telco's worker launch (``local.launch``) is spied on. A variant that no rule
forbids is refused through the grant's ``variants`` restriction; a dangerous one by its rule.
The node's verdict must name every rule the pure :func:`coalition.engine.policy.check` finds.
The positive control drives an accepted job the same way and sees the launch.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from policy_nodes import Pair, open_pair

from coalition.components import REGISTRY
from coalition.core.errors import CoalitionError
from coalition.core.ids import Party
from coalition.engine.dag import parse_dag
from coalition.engine.policy import check, variant_of
from coalition.engine.validate import validate_dag
from coalition.node.jobs.certs import mint_endpoint
from coalition.node.jobs.privacy import policy_for
from coalition.node.partners.grants import get_grant

HOST = {"guest:bank": "bank", "host:telco": "telco", "arbiter:c": "carmaker"}
GUEST = {"guest:telco": "telco", "host:bank": "bank", "arbiter:c": "carmaker"}
TWO = {"guest:bank": "bank", "host:telco": "telco"}
COSITED = {**HOST, "arbiter:c": "bank"}
_counter = itertools.count()


@dataclass(frozen=True)
class Case:
    component: str
    params: dict[str, Any] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=lambda: dict(HOST))
    rule: str | None = None  # the rule that refuses it; None: refused by the grant's variants

    def __str__(self) -> str:
        where = {id(HOST): "", id(GUEST): "@guest", id(TWO): "@2", id(COSITED): "@cosited"}
        return f"{self.component}{where.get(id(self.sites), '')}:{self.params}"


def _lr(name: str) -> list[Case]:
    he = {"batch_size": 1}
    return [Case(name, {"protocol": "ss"}), Case(name, {"protocol": "he-arbiter"}),
            Case(name, {"protocol": "he-guest"}, TWO),
            Case(name, {"protocol": "ss"}, TWO, "policy.ss_guest_dealer"),
            Case(name, {"protocol": "ss"}, COSITED, "policy.coordinator_cosited"),
            Case(name, {"protocol": "he-arbiter"}, COSITED, "policy.coordinator_cosited"),
            Case(name, {"protocol": "he-arbiter", **he}, GUEST, "policy.he_batch_size"),
            Case(name, {"protocol": "he-guest", **he}, TWO, "policy.he_batch_size")]


def _homo(name: str) -> list[Case]:
    return [Case(name), Case(name, {"secure_aggregation": False}, rule="policy.secagg_required"),
            Case(name, {}, COSITED, "policy.coordinator_cosited"),
            Case(name, {"clients_per_round": 1}, rule="policy.too_few_clients")]


CASES = [
    Case("reader"), Case("reader", {}, GUEST),
    *[Case("psi", {"protocol": p}, TWO) for p in ("auto", "ecdh", "kkrt")],
    Case("data_split", {"stratified": False}), Case("data_split", {"stratified": True}, GUEST),
    *_lr("hetero_lr"), *_lr("hetero_linr"), *_lr("hetero_lr_multiclass"),
    *_lr("hetero_poisson")[0:2], *_lr("hetero_poisson")[3:4], *_lr("hetero_poisson")[5:7],
    *[Case("hetero_secureboost", {"sampling": s}, GUEST) for s in ("none", "random")],
    Case("hetero_secureboost", {"sampling": "goss"}, GUEST, "policy.label_sampling"),
    Case("hetero_nn"), Case("hetero_nn", {}, COSITED, "policy.coordinator_cosited"),
    # the alignment digests of vertical models follow the federation's suite (SM3 under sm)
    Case("hetero_secureboost", {"suite": "sm"}, GUEST, "policy.crypto_suite"),
    Case("hetero_nn", {"suite": "sm"}, rule="policy.crypto_suite"),
    Case("feature_groupby", {"suite": "sm"}, TWO, "policy.crypto_suite"),
    Case("predict", {"suite": "sm"}, rule="policy.crypto_suite"),
    *_homo("homo_lr"), *_homo("homo_nn"),
    Case("homo_gbdt"), Case("homo_gbdt", {}, COSITED, "policy.coordinator_cosited"),
    Case("homo_gbdt", {"suite": "sm"}, rule="policy.crypto_suite"),
    # HE parts record their suite for the prediction masks (issue 25): checked like ss
    Case("hetero_lr", {"protocol": "he-arbiter", "suite": "sm"}, rule="policy.crypto_suite"),
    Case("predict"), Case("predict", {}, GUEST), Case("evaluate", {}, GUEST),
    Case("local_model", {}, GUEST),
    # hetero_lr once per coalition of hosts: hetero_lr's rules apply
    Case("hetero_lr_contribution", {"protocol": "ss"}),
    Case("hetero_lr_contribution", {"protocol": "ss"}, TWO, "policy.ss_guest_dealer"),
    Case("feature_statistics"), Case("feature_statistics", {}, GUEST),
    Case("feature_binning"), Case("feature_binning", {}, GUEST),
    Case("feature_selection"), Case("feature_selection", {}, GUEST),
    Case("feature_transform"), Case("feature_transform", {}, GUEST),
    Case("feature_psi"), Case("feature_psi", {}, GUEST),
    Case("data_union"), Case("data_union", {}, GUEST),
    Case("feature_sample", {"stratified": False}), Case("feature_sample", {}, GUEST),
    Case("feature_sample", {"class_fractions": {"1": 3.0}}, GUEST, "policy.label_sampling"),
    # one case each (the expensive part of this file is per case)
    Case("feature_woe"), Case("scorecard", {}, GUEST),
    Case("feature_correlation", {}, COSITED, "policy.coordinator_cosited"),
    Case("feature_groupby", {}, TWO),
    Case("feature_groupby", {"epsilon": 5.0}, TWO, "policy.groupby_epsilon"),
    Case("verify3", {}, TWO), Case("verify3", {}, GUEST),
    Case("verify3", {"suite": "sm"}, TWO, "policy.crypto_suite"),
]


def _document(case: Case, dataset: str) -> dict[str, Any]:
    parties: dict[str, list[str]] = {}
    for party in case.sites:
        role, _, name = party.partition(":")
        parties.setdefault(role, []).append(name)
    reads = {p: (dataset if o == "telco" else "mine") for p, o in case.sites.items()
             if not p.startswith("arbiter")}
    label = {p: {"label_column": "y"} for p in reads
             if p.startswith("guest") and case.sites[p] == "telco"}
    tasks: dict[str, Any] = {"read": {
        "component": "reader", "roles": ["guest", "host"],
        "party_parameters": {p: {"path": d, **label.get(p, {})} for p, d in reads.items()}}}
    target: dict[str, Any] = {"component": case.component, "parameters": case.params}
    if case.component in ("predict", "evaluate"):
        arbiter = "arbiter:c" in case.sites
        tasks["lr"] = {"component": "hetero_lr", "inputs": {"train_data": "read.data"},
                       "parameters": {"protocol": "ss" if arbiter else "he-guest"}}
        tasks["score"] = {"component": "predict",
                          "inputs": {"model": "lr.model", "data": "read.data"}}
        if case.component == "predict":
            tasks.pop("score")
            target["inputs"] = {"model": "lr.model", "data": "read.data"}
        else:
            target.update(roles=["guest"], inputs={"data": "score.predictions"})
    elif case.component in ("psi", "data_split", "feature_statistics", "feature_binning",
                            "feature_selection", "feature_transform",
                            "feature_sample", "feature_correlation", "feature_groupby",
                            "verify3"):
        target["inputs"] = {"data": "read.data"}
    elif case.component in ("feature_woe", "scorecard"):
        tasks["bin"] = {"component": "feature_binning", "inputs": {"data": "read.data"}}
        woe = {"bins": "bin.model", "data": "read.data"}
        if case.component == "feature_woe":
            target["inputs"] = woe
        else:
            tasks["woe"] = {"component": "feature_woe", "inputs": woe}
            tasks["lr"] = {"component": "hetero_lr", "inputs": {"train_data": "woe.data"},
                           "parameters": {"protocol": "ss"}}
            target["inputs"] = {"woe": "woe.model", "lr": "lr.model"}
    elif case.component == "feature_psi":
        target["inputs"] = {"expected": "read.data", "actual": "read.data"}
    elif case.component == "data_union":
        target["inputs"] = {"data": "read.data", "other": "read.data"}
    elif case.component == "hetero_lr_contribution":
        target["inputs"] = {"train_data": "read.data", "test_data": "read.data"}
    elif case.component != "reader":
        target["inputs"] = {"train_data": "read.data"}
    if case.component != "reader":
        tasks["target"] = target
    return {"version": 1, "name": "property", "parties": parties, "tasks": tasks}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with pytest.MonkeyPatch.context() as mp:
        made = open_pair(tmp_path_factory.mktemp("property"), mp)
        yield made
        made.bank.close()
        made.telco.close()


def _setup(pair: Pair, case: Case) -> tuple[dict[str, Any], int]:
    """A fresh dataset at telco and bank's grant on it (its own, so grants never mix)."""
    dataset = f"d{next(_counter)}"
    pair.dataset(dataset, ["y", "x1", "x2"], label="y")
    document = _document(case, dataset)
    graph = validate_dag(parse_dag(document))
    target = "read" if case.component == "reader" else "target"
    kinds = sorted({t.component.name for t in graph.tasks.values()})
    terms: dict[str, Any] = {}
    if case.rule is None:  # refuse through the grant: every variant but the target's
        terms["variants"] = sorted({variant_of(t) for n, t in graph.tasks.items() if n != target})
    return document, int(pair.grant(dataset, kinds, terms)["id"])


def _drive(pair: Pair, job_id: str, document: dict[str, Any]) -> None:
    """What a hostile initiator tries after the answer: start it and run every task."""
    with contextlib.suppress(CoalitionError):
        pair.call("JobStart", {"job_id": job_id, "endpoints": {}})
    for task in document["tasks"]:
        with contextlib.suppress(CoalitionError):
            pair.call("TaskRun", {"job_id": job_id, "task": task})


@pytest.mark.parametrize("case", CASES, ids=str)
def test_refused_jobs_never_start_a_worker(pair: Pair, case: Case) -> None:
    document, grant_id = _setup(pair, case)
    graph = validate_dag(parse_dag(document))
    with pair.telco.env.rt.db.session() as db:
        expected = check(graph, case.sites, policy_for(
            db, pair.telco.env.rt.settings, graph, case.sites, org="telco",
            grants=[get_grant(db, grant_id)]))
    assert expected, "the policy must refuse this case"
    job_id, reply = pair.propose(document, case.sites)
    assert reply["status"] == "rejected" and reply["endpoints"] == {}
    for violation in expected:
        assert violation.rule in reply["reason"]
    if case.rule is not None:
        assert case.rule in {v.rule for v in expected}
    before = len(pair.launched)
    _drive(pair, job_id, document)
    assert pair.launched[before:] == []
    assert pair.job_state(job_id) == "failed"


def test_positive_control_an_accepted_job_does_launch(pair: Pair) -> None:
    case = Case("reader", {}, TWO)
    dataset = f"d{next(_counter)}"
    pair.dataset(dataset, ["y", "x1"], label="y")
    pair.grant(dataset, ["reader"])
    document = _document(case, dataset)
    job_id, reply = pair.propose(document, case.sites)
    assert reply["status"] == "accepted"
    endpoints = dict(reply["endpoints"])
    for party, org in case.sites.items():
        if org == "bank":  # bank issues its own parties' endpoints, as an initiator does
            endpoints[party] = mint_endpoint(pair.bank.env.rt, job_id, Party.parse(party)).to_dict()
    before = len(pair.launched)
    pair.call("JobStart", {"job_id": job_id, "endpoints": endpoints})
    pair.call("TaskRun", {"job_id": job_id, "task": "read"})
    assert pair.launched[before:] == [("telco", "read")]


def test_every_component_has_cases() -> None:
    assert {c.name for c in REGISTRY.components()} == {c.component for c in CASES}
