"""Standalone mode: run a validated job with every party in this process.

For each task the runtime touches (:func:`~coalition.engine.plan.select`), in topological
order: every party loads its own inputs from its own :class:`~.store.ArtifactStore`, computes
its cache key (:func:`~coalition.engine.plan.task_key`), and the task is reused if every
party hits, or run otherwise — each party's role of the component in its own thread on the
in-memory hub (:func:`~coalition.engine.local.run_local`), the same role code nodes run over
the network. Outputs go to each party's store under its key. Task and job states move through
:mod:`.states`; a failed task cancels the rest and fails the job.

Each party's store lives under ``workdir/<role>-<name>/``; nothing of one party is read by
another party's role (they just share a disk here, as they share a process).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from coalition.components import Artifact, Environment
from coalition.core.context import Channel
from coalition.core.errors import CoalitionError
from coalition.core.ids import Party
from coalition.engine.local import run_local
from coalition.engine.plan import Action, decide, select, task_key
from coalition.engine.role import run_role
from coalition.engine.states import (
    JobState,
    TaskState,
    Transition,
    advance,
    job_outcome,
)
from coalition.engine.store import ArtifactStore
from coalition.engine.validate import JobGraph, TaskNode

__all__ = ["RunReport", "StandaloneRunner", "TaskOutcome"]


@dataclass
class TaskOutcome:
    """What happened to one task in a run."""

    name: str
    state: TaskState = TaskState.PENDING
    keys: dict[str, str] = field(default_factory=dict)  # party -> cache key
    seconds: float = 0.0
    error: str | None = None


@dataclass
class RunReport:
    """The run's result: job state, each touched task's outcome, every transition."""

    job: str
    state: JobState = JobState.PENDING
    tasks: dict[str, TaskOutcome] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    error: CoalitionError | None = None

    def with_state(self, state: TaskState) -> list[str]:
        """Tasks that ended in ``state``, in run order."""
        return [n for n, t in self.tasks.items() if t.state is state]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"job": self.job, "state": self.state.value,
                "error": None if self.error is None else self.error.to_problem(),
                "tasks": {n: {"state": t.state.value, "seconds": round(t.seconds, 3),
                              "keys": t.keys, "error": t.error}
                          for n, t in self.tasks.items()}}


class StandaloneRunner:
    """Runs one :class:`JobGraph` in this process (see module docstring)."""

    def __init__(self, graph: JobGraph, workdir: Path, *, env: Environment | None = None,
                 timeout: float = 600.0, wrap: Callable[[Channel], Channel] | None = None,
                 on_transition: Callable[[Transition], None] | None = None) -> None:
        self.graph = graph
        self.workdir = workdir
        self.env = env or Environment()
        self.timeout = timeout
        self.wrap = wrap
        self.on_transition = on_transition
        self._keys: dict[tuple[str, Party], str] = {}

    def store(self, party: Party) -> ArtifactStore:
        """``party``'s artifact store."""
        return ArtifactStore(self.workdir / f"{party.role.value}-{party.name}")

    def output(self, task: str, party: Party, output: str) -> Artifact:
        """An output of ``task`` at ``party`` from this runner's latest run."""
        key = self._keys.get((task, party))
        if key is None:
            raise CoalitionError("task has not run or been reused in this runner",
                                 task=task, party=str(party))
        return self.store(party).load(task, key, output)

    def run(self, *, only: str | None = None, start: str | None = None,
            until: str | None = None, force: bool = False) -> RunReport:
        """Run the selected tasks (all by default); see :mod:`.plan` for reuse rules."""
        selection = select(self.graph.deps(), only=only, start=start, until=until)
        report = RunReport(self.graph.name,
                           tasks={n: TaskOutcome(n) for n in selection.needed})
        self._job(report, JobState.RUNNING, "standalone run")
        for name in selection.needed:
            node, outcome = self.graph.tasks[name], report.tasks[name]
            if report.error is not None:
                self._task(report, outcome, TaskState.CANCELLED, "an earlier task failed")
                continue
            try:
                keys = self._keys_for(node)
                outcome.keys = {str(p): k for p, k in keys.items()}
                hit = all(self.store(p).has(name, k) for p, k in keys.items())
                if decide(name, selection, all_parties_hit=hit, force=force) is Action.REUSE:
                    self._task(report, outcome, TaskState.REUSED, "cache hit on every party")
                else:
                    self._execute(report, node, outcome, keys)
                self._keys.update({(name, p): k for p, k in keys.items()})
            except CoalitionError as exc:
                report.error = exc
                outcome.error = str(exc)
                if outcome.state is TaskState.PENDING:
                    self._task(report, outcome, TaskState.RUNNING, "")
                self._task(report, outcome, TaskState.FAILED, str(exc))
        final = job_outcome(t.state for t in report.tasks.values())
        self._job(report, final, "" if report.error is None else str(report.error))
        return report

    def _keys_for(self, node: TaskNode) -> dict[Party, str]:
        # Digests come from the upstream manifests: deciding reuse reads no data.
        keys: dict[Party, str] = {}
        for party in node.parties:
            store = self.store(party)
            digests = {slot: store.manifest(ref.task, self._keys[(ref.task, party)])[
                ref.output].digest for slot, ref in node.inputs_for(party).items()}
            fingerprint = node.component.fingerprint(node.params[party], self.env)
            keys[party] = task_key(node.component.name, node.component.version,
                                   node.document(), digests, fingerprint)
        return keys

    def _inputs_for(self, node: TaskNode, party: Party) -> dict[str, Artifact]:
        store = self.store(party)
        return {slot: store.load(ref.task, self._keys[(ref.task, party)], ref.output)
                for slot, ref in node.inputs_for(party).items()}

    def _execute(self, report: RunReport, node: TaskNode, outcome: TaskOutcome,
                 keys: Mapping[Party, str]) -> None:
        self._task(report, outcome, TaskState.RUNNING, "")
        roles = {p: partial(run_role, node, p, self._inputs_for(node, p), self.env)
                 for p in node.parties}
        t0 = time.perf_counter()
        try:  # a party's failure arrives as PartyFailedError naming it and the root cause
            results = run_local(roles, timeout=self.timeout, wrap=self.wrap)
        finally:
            outcome.seconds = time.perf_counter() - t0
        meta = {"component": node.component.ref(), "version": node.component.version}
        for party, outputs in results.items():
            self.store(party).save(node.name, keys[party], outputs, meta)
        self._task(report, outcome, TaskState.SUCCEEDED, "")

    def _task(self, report: RunReport, outcome: TaskOutcome, state: TaskState,
              reason: str) -> None:
        t = advance(outcome.state, state, job=report.job, task=outcome.name, reason=reason)
        outcome.state = state
        self._emit(report, t)

    def _job(self, report: RunReport, state: JobState, reason: str) -> None:
        t = advance(report.state, state, job=report.job, reason=reason)
        report.state = state
        self._emit(report, t)

    def _emit(self, report: RunReport, t: Transition) -> None:
        report.transitions.append(t)
        if self.on_transition is not None:
            self.on_transition(t)
