"""Canonical form of IDs, so that both parties hash the same bytes for the same customer.

The default pipeline, applied identically on every side (the parties agree on it out of band,
like the ID column itself):

1. coerce: ``str`` as is; integers (Python, numpy, or floats with an integral value such as
   ``12.0`` from a CSV column with blanks) to decimal without sign padding; ``bytes`` decoded as
   UTF-8; anything else (other floats, dates, objects) is refused with :class:`InputError` —
   silently stringifying ``1.5`` vs ``1.50`` would make equal IDs differ across parties;
2. Unicode NFKC normalisation, then strip leading/trailing whitespace;
3. case folding (``case="lower"`` by default; ``"upper"`` or ``"keep"``);
4. optional hooks, for instance :func:`phone_digits` or :func:`id_number`, applied in order.

Missing values (None, NaN, empty after stripping) are refused: an empty ID would match every
other party's empty ID.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from coalition.core.errors import InputError

__all__ = ["Canonicaliser", "Hook", "coerce_id", "id_number", "phone_digits"]

Hook = Callable[[str], str]

_NON_DIGITS = re.compile(r"\D+")
_ID_SEPARATORS = re.compile(r"[\s\-_./]+")


def phone_digits(value: str, *, default_country: str = "") -> str:
    """Keep digits only; ``00`` becomes ``+``'s equivalent; prefix ``default_country`` digits to
    national numbers (those that started without ``+`` or ``00``). ``"+86 138-0013-8000"`` and
    ``"008613800138000"`` both become ``"8613800138000"``."""
    text = value.strip()
    international = text.startswith("+") or text.startswith("00")
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("00"):
        digits = digits[2:]
    if not international and default_country:
        digits = default_country + digits.lstrip("0")
    return digits


def id_number(value: str) -> str:
    """National ID / passport style numbers: drop separators and upper-case the check letter
    (``"11010519491231002x"`` becomes ``"11010519491231002X"``)."""
    return _ID_SEPARATORS.sub("", value).upper()


def coerce_id(value: Any) -> str:
    """One raw ID as ``str`` (step 1 of the module docstring)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        raise InputError("boolean IDs are not allowed")
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            raise InputError("missing ID (NaN)")
        if float(value).is_integer():
            return str(int(value))
        raise InputError("non-integral float IDs are ambiguous; cast the column to str first")
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError("bytes IDs must be UTF-8") from exc
    if value is None:
        raise InputError("missing ID (None)")
    raise InputError("unsupported ID type", type=type(value).__qualname__)


@dataclass(frozen=True)
class Canonicaliser:
    """The canonicalisation pipeline (see module docstring); picklable, deterministic."""

    case: Literal["lower", "upper", "keep"] = "lower"
    hooks: tuple[Hook, ...] = field(default_factory=tuple)
    normalise_unicode: bool = True

    def one(self, value: Any) -> str:
        """Canonical form of one ID."""
        text = coerce_id(value)
        if self.normalise_unicode:
            text = unicodedata.normalize("NFKC", text)
        text = text.strip()
        if self.case == "lower":
            text = text.lower()
        elif self.case == "upper":
            text = text.upper()
        for hook in self.hooks:
            text = hook(text)
        if not text:
            raise InputError("empty ID after canonicalisation")
        return text

    def many(self, values: Iterable[Any] | Sequence[Any]) -> list[str]:
        """Canonical forms of many IDs; the error names the first bad row."""
        out: list[str] = []
        for row, value in enumerate(values):
            try:
                out.append(self.one(value))
            except InputError as exc:
                raise InputError(exc.message, row=row) from exc
        return out
