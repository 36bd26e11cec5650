"""Planning a run: topological order, partial-run selection, content-addressed cache keys.

Pure functions over a dependency mapping ``{task: upstream tasks}``; the standalone runner
uses them now and a node's scheduler will later.

Partial runs (:func:`select`): ``only=T`` runs T; ``start=X`` runs X and everything
downstream of it; ``until=Y`` runs Y and everything upstream of it; ``start`` with ``until``
runs the tasks on paths from X to Y. Selected tasks always run (that is what asking for them
means). Their upstream tasks are *needed* too: each is reused when its cache key hits on every
party, and runs otherwise — so outputs of unchanged upstream tasks are reused and a changed one
is recomputed. A run with no selection runs every task, reusing each one whose key hits,
unless ``force``.

Cache keys (:func:`task_key`) are per party: SHA-256 over the component's name and exact
version, the task's whole parameter document (every role's and party's parameters, so a change
anywhere invalidates every party), the content digests of this party's input artifacts, and a
digest of the local data the component reads. A task is reused only if *every* party hits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from coalition.core.errors import ConfigError

__all__ = [
    "Action",
    "CycleError",
    "Selection",
    "ancestors",
    "decide",
    "descendants",
    "find_cycle",
    "select",
    "task_key",
    "topological_order",
]

Deps = Mapping[str, Iterable[str]]


class CycleError(ConfigError):
    """The tasks' wiring has a cycle; ``cycle`` lists it (first task repeated at the end)."""

    code = "dag.cycle"

    def __init__(self, cycle: list[str]) -> None:
        super().__init__("tasks form a cycle: " + " -> ".join(cycle), cycle=cycle)
        self.cycle = cycle


def find_cycle(deps: Deps) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]`` (following upstream links), or ``None``."""
    graph = {t: [u for u in ups if u in deps] for t, ups in deps.items()}
    colour: dict[str, int] = {}  # 1 on the stack, 2 done
    for root, ups in graph.items():
        if colour.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(ups))]
        path = [root]
        colour[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            elif not colour.get(nxt):
                colour[nxt] = 1
                stack.append((nxt, iter(graph[nxt])))
                path.append(nxt)
    return None


def topological_order(deps: Deps) -> list[str]:
    """Tasks so that each comes after its upstream tasks; ties keep declaration order.

    Upstream names that are not keys of ``deps`` are ignored (the validator reports them).
    """
    remaining = {t: {u for u in ups if u in deps} for t, ups in deps.items()}
    order: list[str] = []
    while remaining:
        ready = [t for t, ups in remaining.items() if not ups]
        if not ready:
            raise CycleError(find_cycle({t: sorted(u) for t, u in remaining.items()}) or [])
        for t in ready:
            order.append(t)
            del remaining[t]
        for ups in remaining.values():
            ups.difference_update(ready)
    return order


def ancestors(deps: Deps, tasks: Iterable[str]) -> set[str]:
    """Every task upstream of ``tasks`` (not including them)."""
    out: set[str] = set()
    todo = [u for t in tasks for u in deps.get(t, ())]
    while todo:
        t = todo.pop()
        if t not in out:
            out.add(t)
            todo.extend(deps.get(t, ()))
    return out


def descendants(deps: Deps, tasks: Iterable[str]) -> set[str]:
    """Every task downstream of ``tasks`` (not including them)."""
    down: dict[str, set[str]] = {t: set() for t in deps}
    for t, ups in deps.items():
        for u in ups:
            down.setdefault(u, set()).add(t)
    return ancestors(down, tasks)


@dataclass(frozen=True)
class Selection:
    """``targets`` must run; ``needed`` (a superset) are the tasks this run touches, in order."""

    targets: frozenset[str]
    needed: tuple[str, ...]
    partial: bool


def select(deps: Deps, *, only: str | None = None, start: str | None = None,
           until: str | None = None) -> Selection:
    """The tasks a (partial) run touches; :class:`ConfigError` for unknown or empty choices."""
    for flag, name in (("only", only), ("from", start), ("until", until)):
        if name is not None and name not in deps:
            raise ConfigError("no such task", option=flag, task=name, tasks=sorted(deps))
    if only is not None and (start is not None or until is not None):
        raise ConfigError("'only' cannot be combined with 'from' or 'until'")
    targets = set(deps)
    if only is not None:
        targets = {only}
    if start is not None:
        targets &= {start} | descendants(deps, [start])
    if until is not None:
        targets &= {until} | ancestors(deps, [until])
    if not targets:
        raise ConfigError("nothing to run: the 'until' task is not downstream of the "
                          "'from' task", start=start, until=until)
    needed = targets | ancestors(deps, targets)
    order = [t for t in topological_order(deps) if t in needed]
    return Selection(frozenset(targets), tuple(order),
                     partial=any(x is not None for x in (only, start, until)))


class Action(StrEnum):
    """What to do with one task of a run."""

    RUN = "run"
    REUSE = "reuse"


def decide(task: str, selection: Selection, *, all_parties_hit: bool, force: bool) -> Action:
    """Run or reuse ``task`` (see module docstring)."""
    if not all_parties_hit:
        return Action.RUN
    forced = task in selection.targets and (force or selection.partial)
    return Action.RUN if forced else Action.REUSE


def task_key(component: str, version: str, task_document: Mapping[str, Any],
             input_digests: Mapping[str, str], fingerprint: str) -> str:
    """One party's cache key of one task (see module docstring)."""
    body = json.dumps({"component": component, "version": version, "task": task_document,
                       "inputs": dict(sorted(input_digests.items())),
                       "fingerprint": fingerprint},
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()
