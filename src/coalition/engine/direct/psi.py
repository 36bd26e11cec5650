"""PSI between two processes over the gRPC transport (mutual TLS), without nodes: what
``coalition psi`` runs.

``mint_certs(dir)`` writes a throw-away federation CA and one certificate per party
(``dir/ca.crt``, ``dir/guest/node.{key,crt}``, ``dir/host/node.{key,crt}``); give each side's
operator the CA and its own folder. :func:`run_party` runs one role in this process;
:func:`run_local_pair` starts both roles as two processes on loopback (a demo and smoke test).
The result file lists the shared IDs in the agreed order with this party's input rows.
"""

from __future__ import annotations

import json
import multiprocessing
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pandas as pd

from coalition.compute import ProcessExecutor
from coalition.core.errors import CoalitionError, ConfigError, PeerError
from coalition.core.ids import Party, Role
from coalition.protocols.psi.canonical import Canonicaliser
from coalition.protocols.psi.guest import run_guest
from coalition.protocols.psi.host import run_host
from coalition.protocols.psi.inputs import IdSet, read_id_column
from coalition.protocols.psi.session import Progress
from coalition.protocols.psi.spec import PsiParams, PsiResult
from coalition.transport.grpc import open_grpc_context
from coalition.transport.tls import PartyIdentity, Trust, generate_ca, issue_party_cert

__all__ = ["PartyJob", "free_port", "mint_certs", "run_local_pair", "run_party", "write_result"]

GUEST, HOST = Party.guest(), Party.host()
_ROLES: dict[Role, tuple[Party, Party, Callable[..., PsiResult]]] = {
    Role.GUEST: (GUEST, HOST, run_guest),
    Role.HOST: (HOST, GUEST, run_host),
}


def mint_certs(directory: Path) -> None:
    """A throw-away CA plus guest and host certificates under ``directory``."""
    ca = generate_ca("coalition psi standalone")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.crt").write_bytes(ca.cert_pem)
    for party in (GUEST, HOST):
        issue_party_cert(ca, party).save(directory / party.role.value)


@dataclass(frozen=True)
class PartyJob:
    """Everything one side needs (picklable, so :func:`run_local_pair` can spawn it)."""

    role: Role
    ids_file: Path
    column: str | None
    listen: str
    peer: str
    certs: Path
    out: Path
    params: Mapping[str, Any]
    case: str = "lower"
    workers: int = 2
    timeout: float = 600.0


def run_party(job: PartyJob, progress: Progress | None = None) -> PsiResult:
    """Run one side of a 2-party PSI over gRPC and write its result file and summary."""
    me, other, role_fn = _ROLES[job.role]
    params = PsiParams.parse(job.params)
    if job.case not in ("lower", "upper", "keep"):
        raise ConfigError("case must be lower, upper or keep", case=job.case)
    ids = IdSet.build(read_id_column(job.ids_file, job.column),
                      canonicaliser=Canonicaliser(case=job.case),  # type: ignore[arg-type]
                      on_duplicate=params.on_duplicate)
    folder = job.certs / job.role.value
    try:
        identity = PartyIdentity.load(folder / "node.key", folder / "node.crt")
        trust = Trust.federation((job.certs / "ca.crt").read_bytes())
    except OSError as exc:
        raise ConfigError("certificates not found; run `coalition psi certs DIR` first",
                          certs=str(job.certs)) from exc
    executor = ProcessExecutor(job.workers)
    try:
        with open_grpc_context(me, listen=job.listen, peers={other: job.peer},
                               identity=identity, trust=trust, job_id="psi-standalone",
                               timeout=job.timeout, executor=executor) as ctx:
            result: PsiResult = role_fn(ctx, ids, params, progress=progress)
    finally:
        executor.shutdown()
    write_result(result, job.out)
    return result


def write_result(result: PsiResult, out: Path) -> None:
    """``out``: CSV ``id,row`` (agreed order) if this party learned members; always
    ``out`` + ``.summary.json``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if result.ids is not None and result.indices is not None:
        pd.DataFrame({"id": result.ids, "row": result.indices}).to_csv(out, index=False)
    summary = result.summary.to_dict() | {"learns_members": result.learns_members}
    out.with_name(out.name + ".summary.json").write_text(json.dumps(summary, indent=2))


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child(job: PartyJob, conn: Connection) -> None:
    # Not a Pool worker: pool workers are daemonic and may not start the crypto worker pool.
    try:
        conn.send(("ok", run_party(job).summary.to_dict()))
    except CoalitionError as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run_local_pair(guest: PartyJob, host: PartyJob,
                   progress: Progress | None = None) -> dict[str, dict[str, Any]]:
    """Run the host in a spawned process and the guest here; return both summaries."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(host, child), name="psi-host")
    proc.start()
    child.close()
    try:
        guest_summary = run_party(guest, progress).summary.to_dict()
        if not parent.poll(host.timeout):
            raise PeerError("host process did not finish", timeout=host.timeout)
        status, payload = parent.recv()
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
    if status != "ok":
        raise PeerError("host process failed", reason=payload)
    return {"guest": guest_summary, "host": payload}
