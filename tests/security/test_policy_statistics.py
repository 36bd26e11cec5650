"""Issue 19, federated statistics: the initiator writes every party's parameters, so a hostile
guest could set a host's ``share_with_guest: true`` and ``min_count: 1`` and receive "aggregates"
(and top values) of single rows. The host owner's node refuses such a job before any worker
starts (``policy.statistics_min_count``); its own ``min_count`` of at least 10 passes."""

from __future__ import annotations

from typing import Any

from coalition.engine.dag import parse_dag
from coalition.engine.policy import MIN_STATISTICS_COUNT, PrivacyPolicy, check
from coalition.engine.validate import validate_dag

SITES = {"guest:g": "bank", "host:h": "telco"}


def _graph(host: dict[str, Any]):
    return validate_dag(parse_dag({
        "version": 1, "name": "p", "parties": {"guest": ["g"], "host": ["h"]}, "tasks": {
            "read": {"component": "reader", "parameters": {"path": "x"}},
            "stats": {"component": "feature_statistics", "inputs": {"data": "read.data"},
                      "parameters": {"min_count": 1},
                      "party_parameters": {"host:h": host}}}}))


def test_host_owner_refuses_to_share_statistics_of_single_rows() -> None:
    graph = _graph({"share_with_guest": True, "min_count": 1})
    found = check(graph, SITES, PrivacyPolicy(owner="telco"))
    assert [v.rule for v in found] == ["policy.statistics_min_count"]
    assert f"floor {MIN_STATISTICS_COUNT}" in str(found[0])


def test_the_floor_passes_and_unshared_or_own_statistics_are_not_policed() -> None:
    shared_ok = _graph({"share_with_guest": True, "min_count": MIN_STATISTICS_COUNT})
    assert check(shared_ok, SITES, PrivacyPolicy(owner="telco")) == []
    kept_home = _graph({"share_with_guest": False, "min_count": 1})
    assert check(kept_home, SITES, PrivacyPolicy(owner="telco")) == []
    # the guest's own min_count concerns only its own report, which never leaves the bank
    shared_small = _graph({"share_with_guest": True, "min_count": 1})
    assert check(shared_small, SITES, PrivacyPolicy(owner="bank")) == []
