"""Running work: the DAG language, validation, planning, job/task states, standalone runs.

* :mod:`.dag` — the job document (YAML/JSON) and its schema; :mod:`.sdk` builds it in code;
* :mod:`.validate` — checks a document against the component registry → :class:`JobGraph`;
* :mod:`.plan` — order, partial-run selection and content-hash cache keys;
* :mod:`.states` — the job/task state machine;
* :mod:`.standalone` — runs a validated job with every party in this process;
* :mod:`.local` — the in-process party runner; :mod:`.credit_demo` — ``coalition demo``.
"""

from coalition.engine.dag import DagError, DagSpec, Problem, TaskSpec, dump_dag, load_dag, parse_dag
from coalition.engine.local import PartyFailedError, run_local
from coalition.engine.plan import CycleError, decide, select, task_key, topological_order
from coalition.engine.sdk import Pipeline
from coalition.engine.standalone import RunReport, StandaloneRunner, TaskOutcome
from coalition.engine.states import (
    InvalidTransitionError,
    JobState,
    TaskState,
    Transition,
    advance,
    job_outcome,
)
from coalition.engine.store import ArtifactStore
from coalition.engine.validate import JobGraph, OutputRef, TaskNode, validate_dag

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
