"""One party's role of one task, in its own process: ``python -P .../jobs/worker.py SPEC``.

The node writes a JSON spec (job, task, party, cache key, input artifact references, the
datasets it resolved, the party's listen address, its peers' addresses and the per-job
certificates of :mod:`.certs`) and runs this file as a script (so the worker imports the
components, engine and transport, but not the node's web app or database). The worker rebuilds the validated DAG,
loads its inputs from the party's :class:`~coalition.engine.store.ArtifactStore`, opens the
gRPC transport (namespace = job id, task id = task name), runs the component's role, and saves
the outputs under the key. It never opens the node's database.

It talks to the node through stdout, one JSON object per line: ``{"metric": ...}`` for each
metric point, ``{"result": "ok"}`` or ``{"result": "error", ...}`` at the end; any other line
(library output, tracebacks) is kept as a log line on this node only. The error result holds
only what may cross to the initiator: a typed error's code and message, or ``internal`` and a
fixed message for an untyped exception (its text and traceback go to the local log). A watchdog ends the worker if the node
process that started it dies, so a killed node leaves no orphan holding a port.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coalition.components import Environment, Metrics
from coalition.core.errors import CoalitionError, InputError
from coalition.core.ids import Party
from coalition.engine.dag import parse_dag
from coalition.engine.standalone import run_role
from coalition.engine.store import ArtifactStore
from coalition.engine.validate import validate_dag
from coalition.transport.grpc import open_grpc_context
from coalition.transport.tls import PartyIdentity, Trust

__all__ = ["main", "run_role"]

_OUT_LOCK = threading.Lock()
_MAX_MESSAGE = 2000
# Kept equal to coalition.node.jobs.public.INTERNAL_MESSAGE (not imported: the worker does
# not import the node package).
_INTERNAL = "internal error (details are in the node's own log)"


def _local_log(exc: BaseException) -> None:
    """The full failure, for this node's job log only (never sent to a partner)."""
    text = "".join(traceback.format_exception(exc))
    with _OUT_LOCK:  # prefixed: no line of it can parse as a protocol line ("{...}")
        sys.stdout.write("".join(f"| {line}\n" for line in text.splitlines()))
        sys.stdout.flush()


def _emit(obj: Mapping[str, Any]) -> None:
    with _OUT_LOCK:
        sys.stdout.write(json.dumps(obj, default=float) + "\n")
        sys.stdout.flush()


class _StdoutMetrics:
    """Metric sink that streams each point to the node as it is logged."""

    def log(self, name: str, value: float, *, step: int | None = None,
            namespace: str = "") -> None:
        _emit({"metric": name, "value": float(value), "step": step})


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(70)  # the node is gone: nobody will read our outputs
        time.sleep(0.5)


def _trust(spec: Mapping[str, Any]) -> Trust:
    return Trust(spec["roots_pem"].encode(),
                 {Party.parse(p): fp for p, fp in spec["pins"].items()},
                 {Party.parse(p): pem.encode() for p, pem in spec["peer_roots"].items()})


def _resolver(datasets: Mapping[str, str], min_serving_features: int = 2) -> Environment:
    def resolve(name: str) -> Path:
        if name not in datasets:
            raise InputError("dataset not resolved by the node for this task", dataset=name)
        return Path(datasets[name])

    # The node's policy_min_serving_features reaches the predict component (issue 16, #19).
    return Environment(resolve, policy_min_serving_features=min_serving_features)


def execute(spec: Mapping[str, Any]) -> None:
    """Run the task described by ``spec`` (see the module docstring)."""
    graph = validate_dag(parse_dag(spec["dag"]))
    node = graph.tasks[spec["task"]]
    party = Party.parse(spec["party"])
    store = ArtifactStore(Path(spec["store"]))
    inputs = {slot: store.load(ref["task"], ref["key"], ref["output"])
              for slot, ref in spec["inputs"].items()}
    identity = PartyIdentity(party, Path(spec["key_file"]).read_bytes(),
                            Path(spec["cert_file"]).read_bytes())
    peers = {Party.parse(p): addr for p, addr in spec["peers"].items()}
    with open_grpc_context(party, listen=spec["listen"], peers=peers, identity=identity,
                           trust=_trust(spec), job_id=spec["job"], task_id=spec["task"],
                           timeout=float(spec["timeout"]), metrics=_StdoutMetrics()) as ctx:
        env = _resolver(spec["datasets"], int(spec.get("policy_min_serving_features", 2)))
        outputs = run_role(node, party, inputs, env, ctx)
    store.save(node.name, spec["key"], outputs,
               {"component": node.component.ref(), "version": node.component.version,
                "job": spec["job"]})
    for artifact in outputs.values():
        if isinstance(artifact, Metrics):
            for name, value in artifact.values.items():
                _emit({"metric": name, "value": value, "step": None})


def main(argv: list[str]) -> int:
    """Entry point; the exit status is 0 on success, 1 on a typed failure."""
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    threading.Thread(target=_watch_parent, args=(int(spec["parent_pid"]),), daemon=True).start()
    try:
        execute(spec)
    except CoalitionError as exc:
        _local_log(exc)
        _emit({"result": "error", "code": exc.code, "error": exc.message[:_MAX_MESSAGE]})
        return 1
    except Exception as exc:  # a component bug must still reach the node, typed
        _local_log(exc)
        _emit({"result": "error", "code": "internal", "error": _INTERNAL})
        return 1
    _emit({"result": "ok"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
