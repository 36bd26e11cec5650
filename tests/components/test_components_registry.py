import json
from types import MappingProxyType

import pytest
import typer
from pydantic import BaseModel
from typer.testing import CliRunner

from coalition.cli import component as component_cli
from coalition.components import (
    REGISTRY,
    ArtifactKind,
    Component,
    Input,
    Output,
    Registry,
    slots,
)
from coalition.core import ConfigError, NotFoundError, Params, Role

BUILTINS = {"reader", "psi", "data_split", "hetero_lr", "hetero_linr", "hetero_secureboost",
            "homo_lr", "homo_nn", "evaluate", "predict", "feature_statistics",
            "feature_binning", "feature_selection",
            "feature_transform", "feature_psi", "data_union",
            "feature_sample", "feature_woe", "scorecard", "feature_correlation", "verify3",
            "feature_groupby", "local_model", "hetero_lr_multiclass", "hetero_poisson",
            "homo_gbdt", "hetero_lr_contribution", "hetero_nn"}


class _P(Params):
    x: int = 1


class _Loose(BaseModel):
    x: int = 1


def _component(name: str = "toy", version: str = "1.0.0", **attrs):
    body = {"name": name, "version": version, "description": "toy", "Params": _P,
            "roles": frozenset({Role.GUEST}), "required_roles": frozenset({Role.GUEST}),
            "run": lambda self, ctx: {}, **attrs}
    return type("Toy", (Component,), body)


def test_every_builtin_is_registered_under_name_major():
    assert {c.name for c in REGISTRY.components()} == BUILTINS
    assert all(ref.endswith(":1") for ref in REGISTRY.refs())
    assert REGISTRY.get("hetero_lr") is REGISTRY.get("hetero_lr:1")
    assert REGISTRY.lookup("hetero_lr:2") is None


@pytest.mark.parametrize("ref", sorted(BUILTINS))
def test_describe_is_json_with_parameter_schema(ref):
    desc = REGISTRY.describe(ref)
    text = json.dumps(desc)
    assert json.loads(text)["ref"] == f"{ref}:1"
    assert desc["parameters"]["type"] == "object"
    assert desc["roles"] and set(desc["required_roles"]) <= set(desc["roles"])
    for slot in (*desc["inputs"].values(), *desc["outputs"].values()):
        assert slot["kind"] in {k.value for k in ArtifactKind}


def test_hetero_lr_schema_carries_protocol_constraints():
    props = REGISTRY.describe("hetero_lr")["parameters"]["properties"]
    assert set(props["protocol"]["enum"]) == {"ss", "he-arbiter", "he-guest"}
    assert props["epochs"]["minimum"] == 1


def test_highest_major_wins_and_duplicates_are_refused():
    reg = Registry()
    v1, v2 = _component(), _component(version="2.1.0")
    reg.register(v1)
    reg.register(v2)
    assert reg.get("toy") is v2 and reg.get("toy:1") is v1
    reg.register(v1)  # same class again: no-op
    with pytest.raises(ConfigError):
        reg.register(_component())
    with pytest.raises(NotFoundError):
        reg.get("nope")


@pytest.mark.parametrize("attrs", [
    {"version": "1"},
    {"name": "Bad-Name"},
    {"required_roles": frozenset({Role.HOST})},
    {"Params": _Loose},  # parameters outside the one contract (coalition.core.Params)
    {"inputs": slots(a=Input(ArtifactKind.DATASET, frozenset({Role.GUEST}))),
     "outputs": MappingProxyType({"b": Output(ArtifactKind.DATASET, frozenset({Role.GUEST}),
                                              requires="a")})},
])
def test_bad_declarations_are_refused(attrs):
    with pytest.raises(ConfigError):
        Registry().register(_component(**attrs))


def test_parse_params_lists_every_problem():
    with pytest.raises(ConfigError) as info:
        REGISTRY.get("data_split").parse_params({"test_size": 2, "mode": "diagonal"})
    problems = info.value.details["problems"]
    assert any(p.startswith("test_size") for p in problems)
    assert any(p.startswith("mode") for p in problems)


def _cli() -> typer.Typer:
    app = typer.Typer()
    component_cli.register(app)
    return app


def test_cli_list_and_describe():
    runner = CliRunner()
    listed = runner.invoke(_cli(), ["component", "list", "--json"])
    assert listed.exit_code == 0
    assert {row["ref"] for row in json.loads(listed.stdout)} == set(REGISTRY.refs())
    described = runner.invoke(_cli(), ["component", "describe", "psi"])
    assert described.exit_code == 0
    assert json.loads(described.stdout)["parameters"]["properties"]["protocol"]
    missing = runner.invoke(_cli(), ["component", "describe", "nope"])
    assert missing.exit_code == 3


def test_task_context_gives_typed_params_or_a_config_error():
    from coalition.components import TaskContext
    from coalition.core import Party
    from coalition.protocols.linear import LinearParams
    from coalition.testing import run_parties

    def role(ctx):
        tctx = TaskContext(ctx, "t", REGISTRY.get("hetero_lr").parse_params({"epochs": 3}), {})
        assert tctx.params_as(LinearParams).epochs == 3
        with pytest.raises(ConfigError):
            tctx.params_as(_P)
        return True

    assert run_parties({Party.guest(): role}, timeout=10) == {Party.guest(): True}


@pytest.mark.parametrize("ref", ["homo_lr", "homo_nn"])
def test_horizontal_strategy_is_checked_at_validation(ref):
    """An unknown strategy, or options it does not take, fail when the job is validated, not
    when the aggregator starts; the error names the fields."""
    component = REGISTRY.get(ref)
    assert component.parse_params({"strategy": "fedprox", "strategy_options": {"mu": 0.1}})
    with pytest.raises(ConfigError) as unknown:
        component.parse_params({"strategy": "fedmagic"})
    assert unknown.value.details["fields"] == ["strategy"]
    with pytest.raises(ConfigError) as options:
        component.parse_params({"strategy": "fedavg", "strategy_options": {"mu": 0.1}})
    assert options.value.details["fields"] == ["strategy", "strategy_options"]
    schema = REGISTRY.describe(ref)["parameters"]["properties"]["strategy"]
    assert "fedavg" in schema["enum"]
