"""One party's role of one task, in its own process: ``python -P -m coalition.engine.worker
SPEC``.

The launcher (a node: :mod:`coalition.node.jobs.local`) writes a
:class:`~coalition.engine.worker.spec.WorkerSpec` (job, task, party, cache key, input artifact
references, the datasets it resolved, the party's listen address, its peers' addresses, the
per-job certificate files and the run's trust) and starts this module. The worker imports the
components, engine and transport, never the node's web app or database. It rebuilds the
validated DAG, loads its inputs from the party's :class:`~coalition.engine.store.ArtifactStore`,
opens the gRPC transport (namespace = job id, task id = task name), runs the component's role
(:func:`~coalition.engine.role.run_role`), and saves the outputs under the key.

It answers on stdout, one JSON object per line (:mod:`.spec`): a ``MetricLine`` per metric
point, a ``ResultLine`` at the end; any other line (library output, tracebacks, prefixed
``| ``) is a log line for the launcher's own log only. The error result holds only what may
cross to the initiator: a typed error's code and message, or ``internal`` and a fixed message
for an untyped exception (its text and traceback go to the local log). A watchdog ends the
worker if the process that started it dies, so a killed node leaves no orphan holding a port.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

from coalition.components import Environment, Metrics
from coalition.compute import make_executor
from coalition.core.context import Channel
from coalition.core.errors import CoalitionError, InputError
from coalition.core.ids import Party
from coalition.crypto.suite import CryptoSuite
from coalition.engine.dag import parse_dag
from coalition.engine.role import run_role
from coalition.engine.store import ArtifactStore
from coalition.engine.validate import validate_dag
from coalition.engine.worker.spec import (
    INTERNAL_CODE,
    INTERNAL_MESSAGE,
    MAX_MESSAGE,
    MetricLine,
    ResultLine,
    WorkerSpec,
    WorkerTrust,
)
from coalition.protocols.psi.wire import MeteredChannel  # the one byte-counting channel
from coalition.transport.grpc import open_grpc_context
from coalition.transport.tls import PartyIdentity, Trust

__all__ = ["execute", "main"]

_OUT_LOCK = threading.Lock()
_ORPHANED = 70  # exit status when the launcher is gone (nobody will read the outputs)


def _local_log(exc: BaseException) -> None:
    """The full failure, for the launcher's own log only (never sent to a partner)."""
    text = "".join(traceback.format_exception(exc))
    with _OUT_LOCK:  # prefixed: no line of it can parse as a protocol line ("{...}")
        sys.stdout.write("".join(f"| {line}\n" for line in text.splitlines()))
        sys.stdout.flush()


def _emit(line: MetricLine | ResultLine) -> None:
    with _OUT_LOCK:
        sys.stdout.write(line.model_dump_json(exclude_defaults=True) + "\n")
        sys.stdout.flush()


class _StdoutMetrics:
    """Metric sink that streams each point to the launcher as it is logged."""

    def log(self, name: str, value: float, *, step: int | None = None,
            namespace: str = "") -> None:
        _emit(MetricLine(metric=name, value=float(value), step=step))


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(_ORPHANED)
        time.sleep(0.5)


def _trust(trust: WorkerTrust) -> Trust:
    return Trust(trust.roots_pem.encode(),
                 {Party.parse(p): fp for p, fp in trust.pins.items()},
                 {Party.parse(p): pem.encode() for p, pem in trust.peer_roots.items()})


def _environment(datasets: Mapping[str, Path], min_serving_features: int,
                 state_dir: Path | None = None,
                 crypto_suite: CryptoSuite | None = None) -> Environment:
    def resolve(name: str) -> Path:
        if name not in datasets:
            raise InputError("dataset not resolved by the node for this task", dataset=name)
        return datasets[name]

    # The node's policy_min_serving_features reaches the predict component (issue 16, #19).
    return Environment(resolve, policy_min_serving_features=min_serving_features,
                       state_dir=state_dir, crypto_suite=crypto_suite)


class Traffic:
    """Payload bytes of one run's channel, read after the run whatever its outcome."""

    def __init__(self) -> None:
        self.meter: MeteredChannel | None = None

    def wrap(self, channel: Channel) -> Channel:
        """Count what ``channel`` carries (the ``wrap`` of :func:`open_grpc_context`)."""
        self.meter = MeteredChannel(channel)
        return self.meter

    def counts(self) -> dict[str, int]:
        """``bytes_sent`` and ``bytes_received`` so far (zeros before the channel opened)."""
        if self.meter is None:
            return {}
        return {"bytes_sent": self.meter.bytes_sent, "bytes_received": self.meter.bytes_received}


# A worker process runs one task: ``main`` reports this run's traffic in its result line.
_RUN = Traffic()


def execute(spec: WorkerSpec, traffic: Traffic | None = None) -> None:
    """Run the task ``spec`` describes (see the module docstring); ``traffic`` (default: this
    process's run) counts the channel's payload bytes."""
    traffic = traffic if traffic is not None else _RUN
    graph = validate_dag(parse_dag(spec.dag))
    node = graph.tasks[spec.task]
    party = spec.party_id()
    store = ArtifactStore(spec.store)
    inputs = {slot: store.load(ref.task, ref.key, ref.output)
              for slot, ref in spec.inputs.items()}
    identity = PartyIdentity(party, spec.key_file.read_bytes(), spec.cert_file.read_bytes())
    peers = {Party.parse(p): addr for p, addr in spec.peers.items()}
    executor = make_executor(spec.compute)
    try:
        with open_grpc_context(party, listen=spec.listen, peers=peers, identity=identity,
                               trust=_trust(spec.trust), job_id=spec.job, task_id=spec.task,
                               timeout=spec.timeout, metrics=_StdoutMetrics(),
                               executor=executor,
                               wrap=traffic.wrap) as ctx:
            env = _environment(spec.datasets, spec.policy_min_serving_features,
                               spec.state_dir, spec.crypto_suite)
            outputs = run_role(node, party, inputs, env, ctx)
    finally:
        executor.shutdown()
    store.save(node.name, spec.key, outputs,
               {"component": node.component.ref(), "version": node.component.version,
                "job": spec.job})
    for artifact in outputs.values():
        if isinstance(artifact, Metrics):
            for name, value in artifact.values.items():
                _emit(MetricLine(metric=name, value=value))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (``argv``: program name and the spec's path); the exit status is 0 on
    success, 1 on a failure (reported as a ``ResultLine``), 2 on a usage error."""
    args = list(sys.argv if argv is None else argv)
    if len(args) != 2:
        sys.stderr.write("usage: python -P -m coalition.engine.worker SPEC.json\n")
        return 2
    traffic = _RUN
    try:
        spec = WorkerSpec.read(Path(args[1]))
        threading.Thread(target=_watch_parent, args=(spec.parent_pid,), daemon=True).start()
        execute(spec)
    except CoalitionError as exc:
        _local_log(exc)
        _emit(ResultLine(result="error", code=exc.code, error=exc.message[:MAX_MESSAGE],
                         **traffic.counts()))
        return 1
    except Exception as exc:  # a component bug must still reach the launcher, typed
        _local_log(exc)
        _emit(ResultLine(result="error", code=INTERNAL_CODE, error=INTERNAL_MESSAGE,
                         **traffic.counts()))
        return 1
    _emit(ResultLine(result="ok", **traffic.counts()))
    return 0
