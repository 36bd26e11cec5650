"""What a worker is told, and what it answers: the typed contract between a launcher (a node)
and :mod:`coalition.engine.worker`.

The launcher writes a :class:`WorkerSpec` as JSON (:meth:`WorkerSpec.write`) and runs
:func:`worker_command` (``python -P -m coalition.engine.worker SPEC``). The worker answers on stdout, one JSON object
per line: a :class:`MetricLine` per metric point, then one :class:`ResultLine`;
:func:`parse_line` reads them back and returns ``None`` for anything else (library output,
tracebacks), which the launcher keeps as a log line of its own.

A spec holds no secret: the party's private key stays in ``key_file`` (mode 0600), which only
the worker reads. An error result holds only what may cross to another organisation: a typed
error's code and message, or :data:`INTERNAL_CODE` and :data:`INTERNAL_MESSAGE`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from coalition.compute import ComputeSpec
from coalition.core.errors import CoalitionError, ConfigError
from coalition.core.ids import Party, check_job_id
from coalition.crypto.suite import CryptoSuite

__all__ = [
    "INTERNAL_CODE",
    "INTERNAL_MESSAGE",
    "MAX_MESSAGE",
    "InputRef",
    "MetricLine",
    "PartyId",
    "ResultLine",
    "WorkerSpec",
    "WorkerTrust",
    "parse_line",
    "worker_command",
]

INTERNAL_CODE = "internal"
INTERNAL_MESSAGE = "internal error (details are in the node's own log)"
MAX_MESSAGE = 2000  # characters of an error message a worker reports


# Validators raise ValueError, which pydantic turns into a field error (a CoalitionError would
# escape validation untyped as a field problem).
def _party(value: str) -> str:
    try:
        Party.parse(value)
    except CoalitionError:
        raise ValueError("not a party id (role:name)") from None
    return value


def _job(value: str) -> str:
    try:
        return check_job_id(value)
    except CoalitionError:
        raise ValueError("not a job id") from None


PartyId = Annotated[str, AfterValidator(_party)]
"""A party id, ``role:name`` (:meth:`coalition.core.ids.Party.parse`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputRef(_Strict):
    """An upstream output the role reads: ``task``'s ``output`` stored under cache ``key``."""

    task: str
    key: str
    output: str


class WorkerTrust(_Strict):
    """The transport trust of the run (:class:`coalition.transport.tls.Trust`), as PEM text:
    anchors, each party's pinned certificate fingerprint, and the anchor per peer server."""

    roots_pem: str
    pins: dict[PartyId, str]
    peer_roots: dict[PartyId, str]


class WorkerSpec(_Strict):
    """One party's role of one task, as a launcher asks a worker to run it."""

    job: Annotated[str, AfterValidator(_job)]  # the transport namespace
    task: str  # the task id on the wire, and the task of ``dag`` to run
    party: PartyId
    dag: dict[str, Any]  # the job document; the worker validates it again
    key: str  # the cache key the outputs are stored under
    inputs: dict[str, InputRef] = Field(default_factory=dict)  # input slot -> upstream output
    store: Path  # the party's ArtifactStore root
    datasets: dict[str, Path] = Field(default_factory=dict)  # dataset name -> resolved file
    listen: str  # host:port this party's transport server binds
    peers: dict[PartyId, str]  # peer party -> host:port
    key_file: Path  # the party's private key (PEM), read by the worker only
    cert_file: Path  # the party's certificate (PEM)
    trust: WorkerTrust
    timeout: float = Field(gt=0)  # seconds a receive may wait
    parent_pid: int  # the launcher: the worker ends itself when this process is gone
    policy_min_serving_features: int = Field(default=2, ge=1)
    # Protocol state kept between runs (OPRF-PSI tables), scoped by the node to the task's
    # partner organisations; None: nothing is kept.
    state_dir: Path | None = None
    # The node's federation crypto suite (its ``crypto_suite``), for the component's checks.
    crypto_suite: CryptoSuite = CryptoSuite.STANDARD
    # The executor of the role's heavy maps (the node's compute_* settings; never the job's).
    compute: ComputeSpec = Field(default_factory=ComputeSpec)

    def party_id(self) -> Party:
        """``party`` as a :class:`Party`."""
        return Party.parse(self.party)

    def write(self, path: Path) -> None:
        """Write the spec as JSON to ``path`` (its folder is created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> WorkerSpec:
        """The spec in ``path``; :class:`ConfigError` if it is missing or malformed (the
        complaint names the offending top-level fields, never their values)."""
        try:
            return cls.model_validate_json(path.read_bytes())
        except OSError as exc:
            raise ConfigError("worker spec cannot be read") from exc
        except ValidationError as exc:
            # Top-level names only: a deeper location can be a dict key, i.e. a value.
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            raise ConfigError("worker spec is malformed", fields=fields) from None


def worker_command(spec_path: Path) -> list[str]:
    """The command line that runs a worker on the spec at ``spec_path``: this interpreter,
    ``-P`` (the working directory is not put on ``sys.path``, so no file there can shadow a
    module), ``-m coalition.engine.worker``."""
    return [sys.executable, "-P", "-m", "coalition.engine.worker", str(spec_path)]


class MetricLine(_Strict):
    """One metric point, streamed as the role logs it."""

    metric: str
    value: float
    step: int | None = None


class ResultLine(_Strict):
    """The worker's last line: ``ok``, or ``error`` with a typed code and a bounded message."""

    result: Literal["ok", "error"]
    code: str = ""
    error: str = ""
    # Payload bytes this party's channel sent and received (for the node's transport metrics).
    bytes_sent: int = Field(default=0, ge=0)
    bytes_received: int = Field(default=0, ge=0)


def parse_line(line: str) -> MetricLine | ResultLine | None:
    """A protocol line of the worker's stdout, or ``None`` for any other output."""
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    model: type[MetricLine] | type[ResultLine]
    if "metric" in obj:
        model = MetricLine
    elif "result" in obj:
        model = ResultLine
    else:
        return None
    try:
        return model.model_validate(obj)
    except ValidationError:
        return None
