"""The privacy policy reads each component's typed parameter model, never by probing: the
variant comes from the declared field, and a policed component whose parameters are not the
model the rules expect is refused instead of passing unjudged."""

from __future__ import annotations

import dataclasses

import pytest

from coalition.core.errors import ConfigError
from coalition.engine.dag import parse_dag
from coalition.engine.policy import PrivacyPolicy, check, variant_of
from coalition.engine.validate import JobGraph, validate_dag
from coalition.protocols.psi import PsiParams

SITES = {"guest:g": "bank", "host:h": "telco"}


def _graph(tasks: dict[str, object]) -> JobGraph:
    return validate_dag(parse_dag({"version": 1, "name": "p",
                                   "parties": {"guest": ["g"], "host": ["h"]}, "tasks": tasks}))


def test_psi_variant_is_its_typed_protocol() -> None:
    graph = _graph({
        "read": {"component": "reader", "parameters": {"path": "x"}},
        "psi": {"component": "psi", "parameters": {"protocol": "ecdh"},
                "inputs": {"data": "read.data"}}})
    node = graph.tasks["psi"]
    assert all(isinstance(p, PsiParams) for p in node.params.values())
    assert variant_of(node) == "psi:ecdh"


def test_policed_component_with_another_parameter_model_is_refused() -> None:
    graph = _graph({
        "read": {"component": "reader", "parameters": {"path": "x"}},
        "lr": {"component": "hetero_lr", "parameters": {"protocol": "he-guest"},
               "inputs": {"train_data": "read.data"}}})
    lr = graph.tasks["lr"]
    # what an untyped mapping (the old attribute probing would have read None) looks like
    untyped = dataclasses.replace(lr, params={p: {"protocol": "he-guest", "batch_size": 2}
                                              for p in lr.parties})
    graph = dataclasses.replace(graph, tasks={**graph.tasks, "lr": untyped})
    with pytest.raises(ConfigError) as err:
        check(graph, SITES, PrivacyPolicy())
    assert err.value.details["expected"] == "LinearParams"
    with pytest.raises(ConfigError):
        variant_of(untyped)
