"""Which upstream tasks made the rows a model was trained on: the model's preprocessing chain.

A model task's training rows come from a reader through tasks that keep the columns and change
only the rows (``psi``, ``data_split``, ``feature_sample``, ``data_union``) and tasks whose
fitted model part changes the columns (``feature_transform``, ``feature_selection``,
``feature_woe``; :mod:`coalition.protocols.feature.chain` applies them). :func:`training_chain`
walks a job's DAG back from a model task to its reader and returns the column steps in the
order they ran, so a published model can apply them to raw rows. A task of any other component
on that path is returned as a step that cannot be applied (``servable`` false): serving refuses
it at deploy time.

Where the path starts is the model component's (:data:`TRAINED_ON`): ``hetero_lr`` its
``train_data``; ``scorecard`` the ``data`` of the ``feature_woe`` task wired to its ``woe``
input, because the scorecard's part bundles that WOE transform itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from coalition.core.errors import InputError

__all__ = ["COLUMN_STEPS", "ROW_STEPS", "TRAINED_ON", "ChainStep", "training_chain"]

#: Components whose dataset output has the columns of one input (rows may differ): output → input.
ROW_STEPS: Mapping[str, Mapping[str, str]] = {
    "psi": {"data": "data"},
    "data_split": {"train": "data", "test": "data"},
    "feature_sample": {"data": "data"},
    "data_union": {"data": "data"},
}
#: Components whose dataset output is an input with their ``model`` output applied.
COLUMN_STEPS: Mapping[str, Mapping[str, str]] = {
    name: {"data": "data", "test_output": "test_data"}
    for name in ("feature_transform", "feature_selection", "feature_woe")
}
#: Where a model component's training rows enter: a path of inputs (each but the last names
#: a model input whose task is followed).
TRAINED_ON: Mapping[str, tuple[str, ...]] = {
    **{name: ("train_data",) for name in (
        "hetero_lr", "hetero_linr", "hetero_poisson", "hetero_lr_multiclass",
        "hetero_secureboost", "local_model")},
    "scorecard": ("woe", "data"),
}
_SOURCES = frozenset({"reader"})


@dataclass(frozen=True)
class ChainStep:
    """A task on the path: its name, component, the output the path took, and whether its
    model part can be applied to later rows."""

    task: str
    component: str
    output: str
    servable: bool


def _component(name: str) -> str:
    return name.split(":", 1)[0]


def _upstream(tasks: Mapping[str, tuple[str, Mapping[str, str]]], task: str,
              slot: str) -> tuple[str, str] | None:
    ref = tasks[task][1].get(slot)
    if ref is None:
        return None
    producer, _, output = ref.partition(".")
    if producer not in tasks:
        raise InputError("the DAG wires an unknown task", task=task, input=slot)
    return producer, output


def training_chain(tasks: Mapping[str, tuple[str, Mapping[str, str]]], task: str
                   ) -> list[ChainStep]:
    """The column steps between the reader and model task ``task``, first step first.

    ``tasks`` maps each task of the job to its component (``name`` or ``name:major``) and its
    inputs (``input → "task.output"``). Empty when the model has no known training input."""
    path = TRAINED_ON.get(_component(tasks[task][0]))
    if path is None:
        return []
    current = task
    for slot in path[:-1]:  # follow model inputs to the task whose rows the model saw
        found = _upstream(tasks, current, slot)
        if found is None:
            return []
        current = found[0]
    edge = _upstream(tasks, current, path[-1])
    steps: list[ChainStep] = []
    seen: set[str] = set()
    while edge is not None and edge[0] not in seen:
        producer, output = edge
        seen.add(producer)
        component = _component(tasks[producer][0])
        if component in _SOURCES:
            break
        if component in ROW_STEPS and output in ROW_STEPS[component]:
            edge = _upstream(tasks, producer, ROW_STEPS[component][output])
            continue
        if component in COLUMN_STEPS and output in COLUMN_STEPS[component]:
            steps.append(ChainStep(producer, component, output, True))
            edge = _upstream(tasks, producer, COLUMN_STEPS[component][output])
            continue
        steps.append(ChainStep(producer, component, output, False))
        break
    return steps[::-1]
