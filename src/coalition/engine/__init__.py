"""Running work: the DAG language, validation, planning, job/task states, standalone runs.

* :mod:`.dag` — the job document (YAML/JSON) and its schema; :mod:`.sdk` builds it in code;
* :mod:`.validate` — checks a document against the component registry → :class:`JobGraph`;
* :mod:`.plan` — order, partial-run selection and content-hash cache keys;
* :mod:`.states` — the job/task state machine;
* :mod:`.role` — one party's role of one task (:func:`~.role.run_role`), what every runner runs;
* :mod:`.standalone` — runs a validated job with every party in this process;
* :mod:`.worker` — one role in its own process (``python -P -m coalition.engine.worker SPEC``,
  a typed spec in, typed lines out), as nodes launch it;
* :mod:`.local` — the in-process party runner;
* :mod:`.direct` — one PSI/PIR role in this process over gRPC, without nodes (``coalition
  psi``/``pir``).
"""

# Exports resolve lazily (PEP 562): the in-process party runner (``engine.local``) is imported
# by every spawned party process, which must not pay for the component registry's imports.
import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "DagError": "coalition.engine.dag",
    "DagSpec": "coalition.engine.dag",
    "Problem": "coalition.engine.dag",
    "TaskSpec": "coalition.engine.dag",
    "dump_dag": "coalition.engine.dag",
    "load_dag": "coalition.engine.dag",
    "parse_dag": "coalition.engine.dag",
    "PartyFailedError": "coalition.engine.local",
    "run_local": "coalition.engine.local",
    "CycleError": "coalition.engine.plan",
    "decide": "coalition.engine.plan",
    "select": "coalition.engine.plan",
    "task_key": "coalition.engine.plan",
    "topological_order": "coalition.engine.plan",
    "Pipeline": "coalition.engine.sdk",
    "RunReport": "coalition.engine.standalone",
    "StandaloneRunner": "coalition.engine.standalone",
    "TaskOutcome": "coalition.engine.standalone",
    "InvalidTransitionError": "coalition.engine.states",
    "JobState": "coalition.engine.states",
    "TaskState": "coalition.engine.states",
    "Transition": "coalition.engine.states",
    "advance": "coalition.engine.states",
    "job_outcome": "coalition.engine.states",
    "ArtifactStore": "coalition.engine.store",
    "JobGraph": "coalition.engine.validate",
    "OutputRef": "coalition.engine.validate",
    "TaskNode": "coalition.engine.validate",
    "validate_dag": "coalition.engine.validate",
}

__all__ = [
    "ArtifactStore",
    "CycleError",
    "DagError",
    "DagSpec",
    "InvalidTransitionError",
    "JobGraph",
    "JobState",
    "OutputRef",
    "PartyFailedError",
    "Pipeline",
    "Problem",
    "RunReport",
    "StandaloneRunner",
    "TaskNode",
    "TaskOutcome",
    "TaskSpec",
    "TaskState",
    "Transition",
    "advance",
    "decide",
    "dump_dag",
    "job_outcome",
    "load_dag",
    "parse_dag",
    "run_local",
    "select",
    "task_key",
    "topological_order",
    "validate_dag",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'coalition.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
