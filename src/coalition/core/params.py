"""One contract for parameters: every protocol variant's parameters are one :class:`Params` model.

A :class:`Params` subclass is a frozen pydantic model that refuses unknown keys; each field
carries its default, bounds and a ``description`` (the JSON Schema that ``coalition component
describe`` and the console show). Whichever way it is built — ``Model(**kw)``,
``Model.parse(mapping)`` — an invalid value is one :class:`~coalition.core.errors.ConfigError`
whose ``details`` list every problem (``problems``, ``"field: message"``) and the fields named
(``fields``). Messages name the rule broken, never the value given.

Checks across fields go in a ``model_validator(mode="after")`` that raises
:class:`ParamConflict` with the fields involved, so the error names them as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from coalition.core.errors import ConfigError

__all__ = ["ParamConflict", "ParamProblem", "Params", "config_error", "param_problems"]

#: Prefix pydantic puts before the message of a ``ValueError`` raised in a validator.
_VALUE_ERROR_PREFIX = "Value error, "


@dataclass(frozen=True)
class ParamProblem:
    """One invalid parameter: ``field`` is the dotted parameter name ('' for the whole set);
    ``related`` the other fields of a conflict (:class:`ParamConflict`)."""

    field: str
    message: str
    related: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.field or 'parameters'}: {self.message}"


class ParamConflict(ValueError):
    """Fields that are valid one by one but not together (raise it in a model validator);
    the first field named is the one reported, the others are listed as related."""

    def __init__(self, message: str, *fields: str) -> None:
        super().__init__(message)
        self.fields = fields


def param_problems(exc: ValidationError) -> list[ParamProblem]:
    """Every problem of a failed validation, each naming its (dotted) field."""
    out: list[ParamProblem] = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"])
        cause = err.get("ctx", {}).get("error")
        message = str(cause) if isinstance(cause, ValueError) else err["msg"]
        message = message.removeprefix(_VALUE_ERROR_PREFIX)
        if isinstance(cause, ParamConflict) and cause.fields:
            prefix = f"{where}." if where else ""
            first, *others = (prefix + name for name in cause.fields)
            out.append(ParamProblem(first, message, tuple(others)))
        else:
            out.append(ParamProblem(where, message))
    return out


def config_error(what: str, exc: ValidationError) -> ConfigError:
    """The :class:`ConfigError` for invalid ``what`` parameters (``problems`` and ``fields``)."""
    problems = param_problems(exc)
    return ConfigError(f"invalid {what} parameters",
                       problems=[str(p) for p in problems],
                       fields=sorted({f for p in problems for f in (p.field, *p.related) if f}))


class Params(BaseModel):
    """Base of every protocol variant's parameters (see the module docstring for the contract).

    Subclasses set :attr:`params_of` (used in error messages) and declare fields with
    ``Field(default, ..., description=...)``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: What these parameters configure, for error messages ("linear model", "PSI", ...).
    params_of: ClassVar[str] = "protocol"

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(self.params_of, exc) from None

    # Only ``Model(**kw)`` runs the conversion above: marked as pydantic's own ``__init__`` (as
    # ``RootModel`` does), so ``model_validate`` and nested fields keep plain ValidationErrors,
    # whose locations name the nested field (``secagg.neighbours``).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | Self | None = None) -> Self:
        """Validate user parameters (a JSON mapping, or an instance kept as is)."""
        if isinstance(raw, cls):
            return raw
        try:
            return cls.model_validate(dict(raw or {}))
        except ValidationError as exc:
            raise config_error(cls.params_of, exc) from None
