"""The pure policy module: thresholds only go up, grant terms combine conservatively, and one
check lists every violation of a job (what the initiator's fail-fast error shows)."""

from __future__ import annotations

import pytest

from coalition.core.errors import ConfigError
from coalition.engine.dag import parse_dag
from coalition.engine.policy import GrantTerms, PrivacyPolicy, check, variant_of
from coalition.engine.validate import JobGraph, validate_dag

SITES = {"guest:g": "bank", "host:h": "telco", "arbiter:a": "bank"}


def _graph(params: dict[str, object], *, arbiter: bool = True) -> JobGraph:
    parties = {"guest": ["g"], "host": ["h"], **({"arbiter": ["a"]} if arbiter else {})}
    return validate_dag(parse_dag({
        "version": 1, "name": "p", "parties": parties, "tasks": {
            "read": {"component": "reader", "roles": ["guest", "host"],
                     "parameters": {"path": "x"}},
            "lr": {"component": "hetero_lr", "parameters": params,
                   "inputs": {"train_data": "read.data"}}}}))


def test_thresholds_only_go_up() -> None:
    with pytest.raises(ConfigError):
        PrivacyPolicy(he_batch_factor=9)
    with pytest.raises(ConfigError):
        PrivacyPolicy(min_client_orgs=1)
    assert PrivacyPolicy(he_batch_factor=40).he_batch_factor == 40


def test_terms_combine_conservatively() -> None:
    a = GrantTerms(allow_guest_dealer=True, variants=["reader", "hetero_lr:ss"],
                   min_batch_size=100)
    b = GrantTerms(allow_guest_dealer=False, variants=["hetero_lr:ss", "psi"],
                   coordinators=["c"], min_batch_size=300)
    both = a.combine(b)
    assert not both.allow_guest_dealer and both.variants == ["hetero_lr:ss"]
    assert both.coordinators == ["c"] and both.min_batch_size == 300
    assert GrantTerms(allow_label_sampling=True).within(GrantTerms()) is False
    assert GrantTerms().within(GrantTerms(variants=["reader"]))
    assert GrantTerms().under(GrantTerms(variants=["reader"])).variants == ["reader"]


def test_one_check_lists_every_violation() -> None:
    graph = _graph({"protocol": "he-arbiter", "batch_size": 5})
    found = check(graph, SITES, PrivacyPolicy(feature_counts={"host:h": 4}))
    assert {(v.rule, v.task) for v in found} == {("policy.coordinator_cosited", "lr"),
                                                 ("policy.he_batch_size", "lr")}
    assert "floor 40" in next(str(v) for v in found if v.rule == "policy.he_batch_size")


def test_party_blocks_cannot_hide_a_small_batch() -> None:
    """Each party's own parameters count: a small batch given to one party only is seen."""
    graph = validate_dag(parse_dag({
        "version": 1, "name": "p", "parties": {"guest": ["g"], "host": ["h"]}, "tasks": {
            "read": {"component": "reader", "parameters": {"path": "x"}},
            "lr": {"component": "hetero_lr", "inputs": {"train_data": "read.data"},
                   "parameters": {"protocol": "he-guest", "batch_size": 500},
                   "party_parameters": {"host:h": {"batch_size": 2}}}}}))
    found = check(graph, {"guest:g": "bank", "host:h": "telco"}, PrivacyPolicy())
    assert [v.rule for v in found] == ["policy.he_batch_size"]


def test_variants_name_protocol_and_topology() -> None:
    assert variant_of(_graph({"protocol": "ss"}).tasks["lr"]) == "hetero_lr:ss"
    assert variant_of(_graph({"protocol": "ss"}, arbiter=False).tasks["lr"]) \
        == "hetero_lr:ss-guest-dealer"
    assert variant_of(_graph({}).tasks["read"]) == "reader:default"
