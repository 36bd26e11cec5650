"""The parameter contract: one frozen model per protocol variant, problems as ConfigError."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError, model_validator

from coalition.components import REGISTRY
from coalition.core import ConfigError, ParamConflict, Params
from coalition.protocols.horizontal import HorizontalJobParams, HorizontalParams, TrainingParams
from coalition.protocols.linear import LinearParams
from coalition.protocols.pir import PirParams
from coalition.protocols.psi import PsiParams
from coalition.protocols.secureboost import SecureBoostParams

SECRET = 987_654_321  # a value that must never appear in an error


class Inner(Params):
    params_of = "inner"

    size: int = Field(2, ge=2, description="an even size")

    @model_validator(mode="after")
    def _even(self) -> Inner:
        if self.size % 2:
            raise ParamConflict("size must be even", "size")
        return self


class Outer(Params):
    params_of = "outer"

    low: int = Field(0, ge=0, description="lower bound")
    high: int = Field(1, ge=0, description="upper bound")
    inner: Inner | None = Field(None, description="nested settings")

    @model_validator(mode="after")
    def _ordered(self) -> Outer:
        if self.low >= self.high:
            raise ParamConflict("low must be below high", "low", "high")
        return self


def test_construction_and_parse_raise_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError) as built:
        Outer(low=-SECRET)
    with pytest.raises(ConfigError) as parsed:
        Outer.parse({"low": -SECRET})
    for info in (built, parsed):
        assert info.value.code == "config.invalid"
        assert info.value.message == "invalid outer parameters"
        assert info.value.details["fields"] == ["low"]
        assert info.value.details["problems"][0].startswith("low: ")
        assert str(SECRET) not in str(info.value)
        assert info.value.__cause__ is None  # the pydantic error (with the value) is not chained


def test_a_conflict_names_every_field_involved() -> None:
    with pytest.raises(ConfigError) as info:
        Outer.parse({"low": SECRET, "high": 1})
    assert info.value.details["fields"] == ["high", "low"]
    assert info.value.details["problems"] == ["low: low must be below high"]
    assert str(SECRET) not in str(info.value)


def test_nested_problems_carry_the_dotted_path() -> None:
    with pytest.raises(ConfigError) as info:
        Outer.parse({"inner": {"size": 3}})
    assert info.value.details["fields"] == ["inner.size"]
    with pytest.raises(ConfigError) as info:
        Outer(inner={"size": 1})
    assert info.value.details["fields"] == ["inner.size"]


def test_model_validate_keeps_pydantic_errors_for_callers_that_collect_them() -> None:
    with pytest.raises(ValidationError):
        Outer.model_validate({"low": 5, "high": 2})


def test_unknown_keys_are_refused_and_models_are_frozen() -> None:
    with pytest.raises(ConfigError) as info:
        Outer.parse({"hgih": 2})
    assert info.value.details["fields"] == ["hgih"]
    params = Outer.parse({"high": 3})
    assert Outer.parse(params) is params
    with pytest.raises(ValidationError):
        params.high = 4  # type: ignore[misc]


@pytest.mark.parametrize("model", [LinearParams, PsiParams, PirParams, SecureBoostParams,
                                   HorizontalParams, HorizontalJobParams])
def test_every_protocol_variant_follows_the_contract(model: type[Params]) -> None:
    assert issubclass(model, Params)
    assert model.model_config.get("frozen") and model.model_config.get("extra") == "forbid"
    undocumented = [n for n, f in model.model_fields.items() if not f.description]
    assert undocumented == []
    with pytest.raises(ConfigError) as info:
        model.parse({"no_such_parameter": 1})
    assert info.value.details["fields"] == ["no_such_parameter"]


def test_horizontal_parameters_are_declared_once() -> None:
    training = set(TrainingParams.model_fields)
    for ref in ("homo_lr", "homo_nn"):
        params = REGISTRY.get(ref).Params
        assert issubclass(params, HorizontalJobParams)
        for name in training:  # inherited, not redeclared with other bounds or defaults
            assert repr(params.model_fields[name]) == repr(TrainingParams.model_fields[name])
    assert HorizontalJobParams().secure_aggregation is True  # the default a job gets
    assert HorizontalJobParams().protocol_params().secagg is not None
    plain = HorizontalJobParams(rounds=3, secure_aggregation=False).protocol_params()
    assert plain.secagg is None and plain.rounds == 3


def test_jobs_cannot_set_secagg_settings() -> None:
    with pytest.raises(ConfigError) as info:
        REGISTRY.get("homo_lr").parse_params({"secagg": {"threshold_fraction": 0.01}})
    assert "secagg" in info.value.details["fields"]


def test_component_problems_name_the_fields_of_a_conflict() -> None:
    with pytest.raises(ConfigError) as info:
        REGISTRY.get("hetero_lr").parse_params({"protocol": "ss", "penalty": "l1"})
    assert info.value.details["fields"] == ["penalty", "protocol"]
    with pytest.raises(ConfigError) as info:
        REGISTRY.get("hetero_secureboost").parse_params({"key_bits": 1024})
    assert info.value.details["fields"] == ["allow_insecure_key", "key_bits"]
