"""Server-side controls: a per-client query quota per key epoch, and a log of answered batches.

ID spaces such as phone numbers are small enough to enumerate through the online OPRF: a
client that may query without limit can decrypt the whole table. :class:`QuotaBook` bounds the
number of (padded) queries each authenticated client may make per epoch; a key rotation (a new
epoch) resets it. :class:`QueryLog` records every answered batch — client, mode, padded size,
table, epoch, version, time — the number of queries, never their content (the server does not
see it in the OPRF modes). Both persist as JSON when given a path, so a restarted server keeps
counting.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coalition.core.errors import ConfigError
from coalition.protocols.pir.spec import QuotaExceededError

__all__ = ["BatchRecord", "QueryLog", "QuotaBook", "ServerControls"]


class QuotaBook:
    """Queries used per ``(client, epoch)`` against one limit (``None``: unlimited)."""

    def __init__(self, limit: int | None = None, path: str | Path | None = None) -> None:
        if limit is not None and limit < 0:
            raise ConfigError("quota must be >= 0", limit=limit)
        self.limit = limit
        self.path = Path(path) if path is not None else None
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()
        if self.path is not None and self.path.is_file():
            self._used = {str(k): int(v) for k, v in json.loads(self.path.read_text()).items()}

    def used(self, client: str, epoch: str) -> int:
        """Queries ``client`` has made in ``epoch``."""
        return self._used.get(f"{client}|{epoch}", 0)

    def charge(self, client: str, epoch: str, count: int) -> None:
        """Count ``count`` queries, or raise :class:`QuotaExceededError` (counting nothing)."""
        with self._lock:
            used = self.used(client, epoch)
            if self.limit is not None and used + count > self.limit:
                raise QuotaExceededError(
                    f"query quota exceeded for {client}: {count} queries asked, "
                    f"{max(0, self.limit - used)} of {self.limit} left in this epoch",
                    client=client, limit=self.limit, used=used, requested=count)
            self._used[f"{client}|{epoch}"] = used + count
            if self.path is not None:
                self.path.write_text(json.dumps(self._used))


@dataclass(frozen=True)
class BatchRecord:
    """One answered batch (sizes only)."""

    client: str
    mode: str
    size: int
    table_id: str
    epoch: str
    version: int
    time: float


class QueryLog:
    """Answered batches, in memory and appended to a JSON-lines file when given a path."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.records: list[BatchRecord] = []
        self._lock = threading.Lock()

    def add(self, record: BatchRecord) -> None:
        """Record one answered batch."""
        with self._lock:
            self.records.append(record)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(asdict(record)) + "\n")

    def log(self, **fields: Any) -> None:
        """Record one batch from keyword fields (``time`` defaults to now)."""
        self.add(BatchRecord(**({"time": round(time.time(), 3)} | fields)))


@dataclass
class ServerControls:
    """What the server enforces and records around every batch: the quota, the batch log and
    the modes it answers (``None``: every mode; a hello naming another mode is refused before
    the quota is charged)."""

    quota: QuotaBook = field(default_factory=QuotaBook)
    log: QueryLog = field(default_factory=QueryLog)
    modes: frozenset[str] | None = None
