"""``policy.fill_suite``: the initiator's node names the federation's suite on every
suite-bearing task that names none; standard jobs keep their document and digest."""

from coalition.crypto.suite import CryptoSuite
from coalition.engine.dag import parse_dag
from coalition.engine.policy import PrivacyPolicy, check, fill_suite
from coalition.engine.validate import validate_dag

DOC = {"version": 1, "name": "j", "parties": {"guest": ["g"], "host": ["h"], "arbiter": ["a"]},
       "tasks": {
           "read": {"component": "reader", "roles": ["guest", "host"],
                    "parameters": {"path": "x"}},
           "psi": {"component": "psi", "roles": ["guest", "host"],
                   "inputs": {"data": "read.data"}},
           "lr": {"component": "hetero_lr", "inputs": {"train_data": "psi.data"},
                  "parameters": {"protocol": "he-arbiter"}},
           "nn": {"component": "hetero_nn", "inputs": {"train_data": "psi.data"},
                  "party_parameters": {"guest:g": {"suite": "sm"}}},
       }}
SITES = {"guest:g": "bank", "host:h": "telco", "arbiter:a": "hub"}


def test_standard_jobs_are_unchanged():
    graph = validate_dag(parse_dag(DOC))
    assert fill_suite(graph, "standard") is graph


def test_sm_is_filled_where_no_block_names_a_suite():
    graph = validate_dag(parse_dag(DOC))
    filled = fill_suite(graph, "sm")
    doc = filled.spec.to_document()
    assert "suite" not in doc["tasks"]["read"].get("parameters", {})
    assert doc["tasks"]["psi"]["parameters"] == {"suite": "sm"}
    assert doc["tasks"]["lr"]["parameters"] == {"protocol": "he-arbiter", "suite": "sm"}
    # a task that names a suite in any block is left as written (here: the host's block is
    # then the default standard, which the policy refuses)
    assert "parameters" not in doc["tasks"]["nn"]
    assert list(doc["tasks"]) == list(DOC["tasks"]) and filled.digest() != graph.digest()
    violations = check(filled, SITES, PrivacyPolicy(owner="telco", crypto_suite=CryptoSuite.SM))
    assert [(v.rule, v.task) for v in violations if v.rule == "policy.crypto_suite"] == [
        ("policy.crypto_suite", "nn")]
