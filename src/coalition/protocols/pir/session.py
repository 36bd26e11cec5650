"""The opening every PIR mode shares: the client's hello, the server's signed manifest (or
refusal), and the client-side preparation of a batch (canonical form, duplicates, padding).

Hello (client to server): mode, padded batch size, the ``(epoch, version)`` of the client's
cached table copy (download mode), the rows per message and, for ``ot_decoys``, ``k``. No ID
and no function of an ID is in it. The server answers with its signed manifest, or with a
refusal (quota) that the client raises as the same typed error.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coalition.core.context import Context
from coalition.core.errors import CoalitionError, InputError, ProtocolError
from coalition.core.ids import Party
from coalition.crypto.signing import VerifyKey
from coalition.protocols.pir.manifest import Manifest, SignedManifest
from coalition.protocols.pir.spec import (
    PIR_HELLO,
    PIR_MANIFEST,
    ModeRefusedError,
    PirMode,
    QuotaExceededError,
)
from coalition.protocols.psi.canonical import Canonicaliser, coerce_id

__all__ = ["Batch", "Hello", "check_queries", "prepare_batch", "recv_manifest", "send_manifest", "send_refusal"]

MAX_BATCH = 1 << 20


@dataclass(frozen=True)
class Hello:
    """The client's opening message (see module docstring)."""

    mode: PirMode
    n: int
    batch_rows: int
    cached: tuple[str, int] | None = None
    decoys: int = 0

    def send(self, ctx: Context, server: Party) -> None:
        """Send to the server."""
        ctx.send(server, PIR_HELLO, {
            "mode": self.mode.value, "n": self.n, "batch_rows": self.batch_rows,
            "decoys": self.decoys,
            "cached": None if self.cached is None else {"epoch": self.cached[0],
                                                        "version": self.cached[1]}})

    @classmethod
    def recv(cls, ctx: Context, client: Party) -> Hello:
        """Receive and validate."""
        raw = ctx.recv(client, PIR_HELLO)
        try:
            mode = PirMode(raw["mode"])
            n, rows, decoys = int(raw["n"]), int(raw["batch_rows"]), int(raw["decoys"])
            cached_raw = raw["cached"]
            cached = None if cached_raw is None else (str(cached_raw["epoch"]),
                                                      int(cached_raw["version"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError("malformed PIR hello", peer=str(client)) from exc
        if not 0 < n <= MAX_BATCH or not 256 <= rows <= 1 << 22 or not 0 <= decoys <= 4096:
            raise ProtocolError("PIR hello out of range", peer=str(client), n=n)
        return cls(mode, n, rows, cached, decoys)


def send_manifest(ctx: Context, client: Party, signed: SignedManifest, **extra: Any) -> None:
    """Server: accept the batch and send the signed manifest (plus mode-specific fields)."""
    ctx.send(client, PIR_MANIFEST, {"status": "ok", "manifest": signed.to_wire(), **extra})


def send_refusal(ctx: Context, client: Party, exc: CoalitionError) -> None:
    """Server: refuse the batch, telling the client why."""
    details = {k: v for k, v in exc.details.items() if isinstance(v, int | str)}
    ctx.send(client, PIR_MANIFEST, {"status": "refused", "code": exc.code,
                                    "message": exc.message, "details": details})


def recv_manifest(ctx: Context, server: Party, key: VerifyKey,
                  table_id: str | None) -> tuple[Manifest, dict[str, Any]]:
    """Client: the verified manifest and the whole answer, or the server's refusal raised."""
    raw = ctx.recv(server, PIR_MANIFEST)
    if not isinstance(raw, dict):
        raise ProtocolError("malformed PIR manifest message", peer=str(server))
    if raw.get("status") == "refused":
        got = raw.get("details")
        details: dict[str, Any] = got if isinstance(got, dict) else {}
        message = str(raw.get("message", "refused"))
        if raw.get("code") == QuotaExceededError.code:
            raise QuotaExceededError(message, server=str(server), **details)
        if raw.get("code") == ModeRefusedError.code:
            raise ModeRefusedError(message, server=str(server), **details)
        raise ProtocolError(f"server refused the batch: {message}", peer=str(server))
    return SignedManifest.from_wire(raw.get("manifest")).verify(key, table_id), raw


@dataclass(frozen=True)
class Batch:
    """A client batch: queries as given, their unique canonical forms, the position of each
    query among those, and the padded size announced in the hello."""

    queries: list[str]
    unique: list[str]
    where: list[int]
    padded: int

    def with_dummies(self) -> list[bytes]:
        """Unique canonical IDs then random dummies up to ``padded`` (UTF-8)."""
        dummies = [secrets.token_hex(16) for _ in range(self.padded - len(self.unique))]
        return [x.encode("utf-8") for x in [*self.unique, *dummies]]


def check_queries(ids: Sequence[Any]) -> list[str]:
    """Queries as strings (``12.0`` from a CSV column becomes ``12``), refusing missing or
    ambiguous IDs before anything is sent (:class:`InputError` names the first bad row)."""
    Canonicaliser(case="keep").many(ids)
    return [coerce_id(x) for x in ids]


def prepare_batch(queries: list[str], padded: int, case: str) -> Batch:
    """Canonicalise with the table's ``case``, de-duplicate, keep positions."""
    if case not in ("lower", "upper", "keep"):
        raise InputError("unsupported canonical case in manifest", case=case)
    canon = Canonicaliser(case=case).many(queries)  # type: ignore[arg-type]
    first: dict[str, int] = {}
    where = [first.setdefault(x, len(first)) for x in canon]
    return Batch(queries, list(first), where, padded)
