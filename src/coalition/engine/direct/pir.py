"""PIR between two processes over the gRPC transport (mutual TLS), without nodes: what
``coalition pir`` runs.

* :func:`mint_certs` — a throw-away CA plus one certificate for the server and one for the
  client (``dir/ca.crt``, ``dir/<name>/node.{key,crt}``).
* :func:`build_table` — a table folder from a CSV/Parquet file: an ID column and chosen payload
  columns (each row's payload is a JSON object of those columns). Re-running it on the same
  folder syncs: only new IDs get OPRF work, a new version and a delta for clients.
* :func:`serve` — answer ``sessions`` batches from one client, one gRPC session each, with
  the quota (``quota.json``) and the batch log (``batches.jsonl``) kept in the table folder.
* :func:`query` — one batch from an ID file; results to CSV or Parquet.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from coalition.compute import ProcessExecutor
from coalition.core.errors import ConfigError, InputError
from coalition.core.ids import Party
from coalition.crypto.signing import VerifyKey
from coalition.protocols.pir.client import run_client
from coalition.protocols.pir.quota import QueryLog, QuotaBook, ServerControls
from coalition.protocols.pir.results import PirResult, write_results
from coalition.protocols.pir.server import ServeSummary, run_server
from coalition.protocols.pir.settings import TableSettings
from coalition.protocols.pir.spec import QuotaExceededError
from coalition.protocols.pir.table import PirTable, TableStats
from coalition.protocols.psi.oprf.cache import ClientTableCache
from coalition.protocols.psi.session import Progress
from coalition.transport.grpc import open_grpc_context
from coalition.transport.tls import PartyIdentity, Trust, generate_ca, issue_party_cert

__all__ = ["BuildJob", "Endpoint", "build_table", "load_verify_key", "mint_certs", "query",
           "serve"]


def mint_certs(directory: Path, *, client: str = "client", server: str = "server") -> None:
    """A throw-away CA plus client and server certificates under ``directory``."""
    ca = generate_ca("coalition pir standalone")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.crt").write_bytes(ca.cert_pem)
    issue_party_cert(ca, Party.guest(client)).save(directory / client)
    issue_party_cert(ca, Party.host(server)).save(directory / server)


@dataclass(frozen=True)
class BuildJob:
    """How to turn a file into a table folder."""

    source: Path
    out: Path
    table_id: str
    id_column: str
    payload_columns: Sequence[str]
    payload_bytes: int | None = None  # default: the longest payload, rounded up to 16
    bucket_bits: int = 8
    case: str = "lower"
    workers: int = 2
    rotate: bool = False
    suite: str = "standard"  # crypto suite of a new table: standard, or sm (SM2/SM3/SM4)


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError("file not found", path=str(path))
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path, columns=columns).astype(str)
        return pd.read_csv(path, dtype=str, keep_default_na=False, usecols=columns,
                           sep="\t" if path.suffix.lower() == ".tsv" else ",")
    except (ValueError, KeyError, OSError) as exc:
        raise InputError("cannot read columns", path=str(path), columns=columns,
                         reason=str(exc)) from exc


def build_table(job: BuildJob, progress: Progress | None = None) -> TableStats:
    """Create or sync the table folder ``job.out`` from ``job.source`` (see module docstring)."""
    cols = list(job.payload_columns)
    if not cols or job.id_column in cols:
        raise ConfigError("choose payload columns other than the ID column")
    frame = _read(job.source, [job.id_column, *cols])
    payloads = [json.dumps(dict(zip(cols, row, strict=True)), ensure_ascii=False,
                           separators=(",", ":")).encode("utf-8")
                for row in frame[cols].itertuples(index=False, name=None)]
    if (job.out / "settings.json").is_file():
        table = PirTable.open(job.out)
        if list(table.settings.columns) != cols or table.settings.table_id != job.table_id:
            raise ConfigError("table folder holds another table; choose a new folder",
                              columns=list(table.settings.columns))
        if job.rotate:
            table.rotate_key()
    else:
        width = job.payload_bytes or 16 * max(1, math.ceil(max(map(len, payloads), default=1)
                                                            / 16))
        table = PirTable(TableSettings(job.table_id, width, bucket_bits=job.bucket_bits,
                                       payload_format="json", columns=tuple(cols),
                                       case=job.case, suite=job.suite), job.out)
    executor = ProcessExecutor(job.workers)
    try:
        return table.sync(frame[job.id_column].tolist(), payloads, executor=executor,
                          progress=progress)
    finally:
        executor.shutdown()


@dataclass(frozen=True)
class Endpoint:
    """One side of a gRPC session: names, addresses, certificates, workers."""

    me: str
    peer_name: str
    listen: str
    peer: str
    certs: Path
    timeout: float = 600.0
    workers: int = 2
    extra: dict[str, Any] = field(default_factory=dict)

    def credentials(self) -> tuple[PartyIdentity, Trust]:
        """The identity of ``me`` and the federation trust, from ``certs``."""
        folder = self.certs / self.me
        try:
            identity = PartyIdentity.load(folder / "node.key", folder / "node.crt")
            trust = Trust.federation((self.certs / "ca.crt").read_bytes())
        except OSError as exc:
            raise ConfigError("certificates not found; run `coalition pir certs DIR` first",
                              certs=str(self.certs), party=self.me) from exc
        return identity, trust


def serve(table_dir: Path, end: Endpoint, *, sessions: int = 1, quota: int | None = None,
          progress: Progress | None = None) -> list[ServeSummary | str]:
    """Answer ``sessions`` batches (0: until interrupted) from client ``end.peer_name``. A
    refused batch (quota) is reported in the list as its message and serving goes on."""
    table = PirTable.open(table_dir)
    controls = ServerControls(QuotaBook(quota, table_dir / "quota.json"),
                              QueryLog(table_dir / "batches.jsonl"))
    identity, trust = end.credentials()
    me, client = Party.host(end.me), Party.guest(end.peer_name)
    executor = ProcessExecutor(end.workers)
    done: list[ServeSummary | str] = []
    try:
        while sessions == 0 or len(done) < sessions:
            with open_grpc_context(me, listen=end.listen, peers={client: end.peer},
                                   identity=identity, trust=trust, job_id="pir",
                                   timeout=end.timeout, executor=executor) as ctx:
                try:
                    done.append(run_server(ctx, table, controls=controls, progress=progress))
                except QuotaExceededError as exc:  # the client was told; close cleanly
                    done.append(str(exc))
    finally:
        executor.shutdown()
    return done


def load_verify_key(value: str | Path) -> VerifyKey:
    """The server's manifest key: a hex string, or a file holding one (``verify.key``)."""
    text = str(value)
    path = Path(text)
    if path.is_file():
        text = path.read_text().strip()
    try:
        return VerifyKey(bytes.fromhex(text))
    except ValueError as exc:
        raise ConfigError("server key must be 64 (Ed25519) or 66 (SM2) hex characters or a "
                          "verify.key file") from exc


def query(ids: Sequence[str], end: Endpoint, *, server_key: VerifyKey, out: Path | None,
          params: dict[str, Any], table_id: str | None = None, cache_dir: Path | None = None,
          progress: Progress | None = None) -> PirResult:
    """One batch against server ``end.peer_name``; results written to ``out`` if given."""
    identity, trust = end.credentials()
    me, server = Party.guest(end.me), Party.host(end.peer_name)
    executor = ProcessExecutor(end.workers)
    try:
        with open_grpc_context(me, listen=end.listen, peers={server: end.peer},
                               identity=identity, trust=trust, job_id="pir",
                               timeout=end.timeout, executor=executor) as ctx:
            result = run_client(ctx, ids, server_key=server_key, params=params,
                                table_id=table_id, progress=progress,
                                cache=ClientTableCache(cache_dir) if cache_dir else None)
    finally:
        executor.shutdown()
    if out is not None:
        write_results(result, out)
        out.with_name(out.name + ".summary.json").write_text(
            json.dumps(result.summary.to_dict(), indent=2))
    return result
