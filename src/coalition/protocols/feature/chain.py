"""A party's preprocessing chain: the fitted column steps between its raw table and a model.

A model trained on ``reader → psi → feature_transform → feature_selection → hetero_lr`` sees
transformed, selected columns; to score a raw row later, the same party must apply the same
fitted steps first. A published model part records them (``coalition.node.library`` bundles
them from the party's own job records) as plain JSON::

    {"steps": [{"task": "transform", "component": "feature_transform", "data": {...}}, ...],
     "columns": ["income", "employment=retired", ...]}   # the model's input columns, in order

:class:`PreprocessChain` applies them: :meth:`~PreprocessChain.raw_columns` says which raw
columns a model's inputs come from (for the online source to read), :meth:`~PreprocessChain.
categories` which of those are text and their training categories (the online source codes
them, :mod:`coalition.node.serving.features`), and :meth:`~PreprocessChain.apply` turns a raw
frame into the model's columns with each step's pure ``apply_*`` function — the very function
that made the job's own ``data`` and ``test_output``, so batch, offline and online scores agree.

Steps that can be applied to later rows: ``feature_transform`` (:mod:`.transform`),
``feature_selection`` (:mod:`.selection`) and ``feature_woe`` (:mod:`.woe_transform`). Any
other step between the raw table and the model (one whose fitted state is not a model part, or
that a later row cannot pass through) is recorded with ``data: null`` and makes the chain
raise :class:`UnservableStep` when it is built — at deploy time, never at request time.
Everything is local to the party that holds the chain: nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from coalition.core.errors import InputError
from coalition.protocols.feature.selection import select_columns
from coalition.protocols.feature.transform import apply_transform
from coalition.protocols.feature.woe_transform import apply_woe_transform, encoded_bins

__all__ = ["SERVABLE", "PreprocessChain", "UnservableStep", "decode_text"]

#: Components whose model part is a column step this module can apply to later rows.
SERVABLE = frozenset({"feature_transform", "feature_selection", "feature_woe"})
#: The code the online source gives a category unseen at training (see :func:`decode_text`).
UNSEEN = "\x00unseen"


class UnservableStep(InputError):
    """A model's preprocessing chain holds a step that cannot be applied to later rows."""

    code: ClassVar[str] = "model.unservable_step"


@dataclass(frozen=True)
class _Step:
    task: str
    component: str
    data: dict[str, Any]

    def sources(self) -> dict[str, str]:
        """Output column → the input column it is made from (columns not named pass
        through under their own name)."""
        if self.component == "feature_transform":
            out: dict[str, str] = {}
            for name, spec in self.data["columns"].items():
                if spec["kind"] == "categorical" and spec.get("encode") == "onehot":
                    out.update({f"{name}={c}": name for c in spec["categories"]})
                else:
                    out[name] = name
            return out
        if self.component == "feature_woe":
            return {col: name for name, spec in self.data["columns"].items()
                    for col in encoded_bins(name, spec)[0]}
        return {}

    def text_categories(self) -> dict[str, list[str]]:
        """Input columns this step reads as text, with their training categories."""
        if self.component == "feature_transform":
            return {n: [str(c) for c in s["categories"]] for n, s in self.data["columns"].items()
                    if s["kind"] == "categorical"}
        if self.component == "feature_woe":
            return {n: [str(c) for c in s["bins"]["categories"]]
                    for n, s in self.data["columns"].items()
                    if s["bins"].get("kind") == "categorical"}
        return {}

    def consumes(self) -> set[str]:
        """Input columns this step reads by name."""
        if self.component == "feature_selection":
            return {str(f) for f in self.data["keep"]}
        return {str(f) for f in self.data["columns"]}

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The step on ``frame``, which holds only the columns the model needs: fitted
        columns it lacks are not needed (:meth:`PreprocessChain.apply` checks the result)."""
        present = set(frame.columns)
        if self.component == "feature_selection":
            return select_columns({"keep": [f for f in self.data["keep"] if f in present]},
                                  frame, [])
        fitted = {f: s for f, s in self.data["columns"].items() if f in present}
        if self.component == "feature_transform":
            return apply_transform(fitted, frame)
        return apply_woe_transform(fitted, frame)


def _step(raw: Mapping[str, Any]) -> _Step:
    component, task, data = raw.get("component"), raw.get("task"), raw.get("data")
    if component not in SERVABLE or data is None:
        raise UnservableStep("the model's preprocessing holds a step that cannot be applied "
                             "to rows at serving time", task=str(task), component=str(component))
    if not isinstance(data, dict):
        raise InputError("corrupt preprocessing step in the model part", task=str(task))
    step = _Step(str(task), str(component), data)
    try:  # validate the fitted state once, at build time
        step.sources()
        step.text_categories()
        step.consumes()
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError("corrupt preprocessing step in the model part", task=str(task)) from exc
    return step


def decode_text(X: np.ndarray[Any, Any], names: Sequence[str],
                categories: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A coded float matrix (the online source's rows) as a frame: each text column's
    category index back to its category, ``-1`` to an unseen category, NaN to missing."""
    frame = pd.DataFrame(X, columns=list(names))
    for name, cats in categories.items():
        if name not in frame.columns:
            continue
        frame[name] = pd.Series(
            [None if np.isnan(v) else cats[int(v)] if 0 <= v < len(cats) else UNSEEN
             for v in frame[name].to_numpy()], index=frame.index, dtype=object)
    return frame


class PreprocessChain:
    """The fitted steps of one party, in the order training applied them (module docstring)."""

    def __init__(self, steps: Sequence[_Step], columns: Sequence[str]) -> None:
        self.steps = list(steps)
        self.columns = list(columns)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> PreprocessChain:
        """The chain a model part records; :class:`UnservableStep` if a step cannot be
        applied to later rows, :class:`InputError` if the record is corrupt."""
        steps, columns = record.get("steps"), record.get("columns")
        if not isinstance(steps, list) or not isinstance(columns, list):
            raise InputError("corrupt preprocessing chain in the model part")
        return cls([_step(s) for s in steps if isinstance(s, Mapping)],
                   [str(c) for c in columns])

    def raw_columns(self, outputs: Sequence[str] | None = None) -> list[str]:
        """The raw columns the chain reads to make ``outputs`` (all model columns when None),
        in first-use order."""
        needed = list(self.columns if outputs is None else outputs)
        for step in reversed(self.steps):
            source = step.sources()
            needed = list(dict.fromkeys(source.get(c, c) for c in needed))
        return needed

    def categories(self, raw: Sequence[str]) -> dict[str, list[str]]:
        """Raw columns among ``raw`` that the chain reads as text, with their training
        categories: the first step that transforms a column decides its type (a selection
        only passes it on)."""
        out: dict[str, list[str]] = {}
        for name in raw:
            for step in self.steps:
                if step.component == "feature_selection" or name not in step.consumes():
                    continue
                text = step.text_categories()
                if name in text:
                    out[name] = text[name]
                break
        return out

    def imputed(self, raw: Sequence[str]) -> set[str]:
        """Raw columns among ``raw`` whose missing values the chain fills (an imputing
        transform or a WOE step's missing bin reads them first)."""
        out: set[str] = set()
        for name in raw:
            for step in self.steps:
                if step.component == "feature_selection" or name not in step.consumes():
                    continue
                if step.component == "feature_woe" or (
                        step.data["columns"][name].get("fill") is not None):
                    out.add(name)
                break
        return out

    def with_step(self, component: str, data: dict[str, Any], columns: Sequence[str]
                  ) -> PreprocessChain:
        """A copy of the chain with one more step, making ``columns``."""
        return PreprocessChain([*self.steps, _step({"task": component, "component": component,
                                                     "data": data})], columns)

    def apply(self, frame: pd.DataFrame, outputs: Sequence[str] | None = None,
              ) -> pd.DataFrame:
        """The model's input columns (``outputs``, all of them when None) made from a raw
        ``frame`` by every step in turn."""
        for step in self.steps:
            frame = step.apply(frame)
        wanted = list(self.columns if outputs is None else outputs)
        absent = [c for c in wanted if c not in frame.columns]
        if absent:
            raise InputError("the preprocessing chain does not make columns the model uses",
                             columns=absent)
        return frame[wanted]

