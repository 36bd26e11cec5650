"""What a PIR client gets back: one answer per query, in query order, and its export.

``found[i]`` says whether query ``i`` is in the server's table; ``payloads[i]`` is its payload
(``None`` when not found). Duplicated queries get the same answer at each position. Tables
built from CSV columns carry JSON payloads; :meth:`PirResult.to_frame` expands them into
columns. :func:`write_results` writes CSV or Parquet by the file suffix.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from coalition.core.errors import InputError
from coalition.protocols.pir.manifest import Manifest

__all__ = ["PirResult", "PirSummary", "write_results"]


@dataclass
class PirSummary:
    """What happened, for logs and the CLI (no IDs, no payloads)."""

    mode: str
    queries: int
    unique: int
    padded: int
    found: int
    table_id: str
    epoch: str
    version: int
    table_transfer: str  # "full", "delta", "buckets" or "none"
    seconds: float
    bytes_sent: int
    bytes_received: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class PirResult:
    """Answers in query order (see module docstring)."""

    queries: list[str]
    found: list[bool]
    payloads: list[bytes | None]
    manifest: Manifest
    summary: PirSummary

    def __len__(self) -> int:
        return len(self.queries)

    def value(self, i: int) -> Any:
        """Payload ``i`` decoded: a dict for JSON tables, bytes otherwise, None if not found."""
        p = self.payloads[i]
        if p is None or self.manifest.payload_format != "json":
            return p
        return json.loads(p.decode("utf-8"))

    def to_frame(self) -> pd.DataFrame:
        """``id``, ``found`` and the payload: one column per table column for JSON tables,
        else ``payload`` (bytes)."""
        frame = pd.DataFrame({"id": self.queries, "found": self.found})
        if self.manifest.payload_format == "json":
            values = [self.value(i) or {} for i in range(len(self))]
            for col in self.manifest.columns:
                frame[col] = [v.get(col) for v in values]
        else:
            frame["payload"] = self.payloads
        return frame


def write_results(result: PirResult, path: str | Path) -> Path:
    """Write ``result.to_frame()`` as CSV (bytes payloads hex-encoded) or Parquet."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = result.to_frame()
    suffix = out.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    elif suffix == ".csv":
        if "payload" in frame.columns:
            frame["payload"] = [p.hex() if p is not None else "" for p in frame["payload"]]
        frame.to_csv(out, index=False)
    else:
        raise InputError("results go to .csv or .parquet", path=str(out))
    return out
