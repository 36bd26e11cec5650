"""Private three-element verification, bank (client) side: canonicalise the triples, blind
their OPRF inputs, and turn the telco's answer and table into per-element flags.

:func:`prepare` and :func:`finish` are the two halves around the telco's evaluation, usable over
any transport (the node calls them around its peer methods); :func:`run_bank` is the role over a
:class:`~coalition.core.context.Context`. Protocol and leakage: the package docstring.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.core.context import Context, Executor
from coalition.core.errors import CryptoError, InputError, ProtocolError
from coalition.crypto.oprf_suite import Blinded, oprf_for
from coalition.crypto.suite import primitives
from coalition.protocols.pir.spec import QuotaExceededError, padded_size
from coalition.protocols.psi.matching import as_keys
from coalition.protocols.psi.wire import metered, recv_batches, send_batches
from coalition.protocols.verify3.spec import (
    ELEMENTS_PER_TRIPLE,
    MAX_ELEMENTS,
    TAG_BYTES,
    V3_BLINDED,
    V3_EVALUATED,
    V3_HELLO,
    V3_MANIFEST,
    V3_TABLE,
    Verify3Flags,
    Verify3Params,
    canonical_triple,
    oprf_inputs,
)
from coalition.protocols.verify3.table import Manifest, tags_of

__all__ = ["Query", "Verify3Result", "finish", "prepare", "run_bank"]

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Query:
    """A prepared batch: the secret blinds (kept here) and the blinded elements (sent)."""

    n: int
    state: Blinded
    blinded: U8

    @property
    def padded(self) -> int:
        """Elements the telco sees (three per padded triple)."""
        return int(self.blinded.shape[0])


@dataclass(frozen=True)
class Verify3Result:
    """Flags in the order of the triples given, and what the run cost."""

    flags: list[Verify3Flags]
    manifest: Manifest
    summary: dict[str, Any]


def prepare(triples: Sequence[tuple[Any, Any, Any]], params: Verify3Params,
            executor: Executor | None = None) -> Query:
    """Canonicalise (:class:`InputError` names the first bad row), pad to
    ``padded_size(n, min_batch)`` triples with random dummies, and blind every input."""
    inputs: list[bytes] = []
    for row, t in enumerate(triples):
        try:
            inputs.extend(oprf_inputs(canonical_triple(*t, country=params.phone_country)))
        except (InputError, TypeError) as exc:
            raise InputError("bad triple", row=row) from exc
    n = len(triples)
    padded = padded_size(n, params.min_batch) * ELEMENTS_PER_TRIPLE
    if padded > MAX_ELEMENTS:
        raise InputError("batch too large", triples=n, limit=MAX_ELEMENTS // ELEMENTS_PER_TRIPLE)
    # dummies are blinded like real inputs: the telco cannot tell them apart
    inputs.extend(secrets.token_bytes(32) for _ in range(padded - len(inputs)))
    state, blinded = oprf_for(params.suite).blind(inputs, executor)
    return Query(n, state, blinded)


def check_table(manifest: Manifest, tags: U8) -> U8:
    """The received tags, checked against the manifest (rows, sorted, digest)."""
    if tags.dtype != np.uint8 or tags.shape != (manifest.rows * ELEMENTS_PER_TRIPLE, TAG_BYTES):
        raise ProtocolError("verification table has the wrong shape")
    if primitives(manifest.suite).hash(np.ascontiguousarray(tags).tobytes()).hex() \
            != manifest.digest:
        raise CryptoError("verification table does not match its manifest")
    return tags


def finish(query: Query, params: Verify3Params, manifest: Manifest, tags: U8,
           evaluated: U8, *, executor: Executor | None = None) -> list[Verify3Flags]:
    """Unblind the telco's answer and look each real tag up in the table."""
    if manifest.suite != params.suite.value:
        raise ProtocolError("the telco runs another crypto suite", theirs=manifest.suite,
                            ours=params.suite.value)
    outputs = oprf_for(params.suite).unblind(query.state, evaluated, executor)
    mine = tags_of(outputs[:query.n * ELEMENTS_PER_TRIPLE])
    table, keys = as_keys(np.ascontiguousarray(tags)), as_keys(mine)
    if table.size:
        pos = np.minimum(np.searchsorted(table, keys), table.size - 1)
        hit = (table[pos] == keys).reshape(-1, ELEMENTS_PER_TRIPLE)
    else:
        hit = np.zeros((query.n, ELEMENTS_PER_TRIPLE), dtype=bool)
    return [Verify3Flags(bool(h[0]), bool(h[1]), bool(h[2])) for h in hit]


def run_bank(ctx: Context, triples: Sequence[tuple[Any, Any, Any]],
             params: Verify3Params | dict[str, Any] | None = None, *,
             cached: tuple[Manifest, U8] | None = None) -> Verify3Result:
    """The bank's role against ``ctx.hosts[0]`` (the telco); ``cached`` is a table kept from
    an earlier run (sent again only if its digest changed)."""
    started = time.perf_counter()
    p = Verify3Params.parse(params)
    inner, meter = metered(ctx, "verify3")
    if len(inner.hosts) != 1:
        raise ProtocolError("verification runs between one bank (guest) and one telco (host)")
    telco = inner.hosts[0]
    query = prepare(triples, p, inner.executor)
    inner.send(telco, V3_HELLO, {"suite": p.suite.value, "n": query.padded,
                                 "batch_rows": p.batch_rows,
                                 "cached": None if cached is None else cached[0].digest})
    raw = inner.recv(telco, V3_MANIFEST)
    if isinstance(raw, dict) and raw.get("status") == "refused":
        got = raw.get("details")
        details: dict[str, Any] = got if isinstance(got, dict) else {}
        if raw.get("code") == QuotaExceededError.code:
            raise QuotaExceededError(str(raw.get("message")), server=str(telco), **details)
        raise ProtocolError(f"telco refused the batch: {raw.get('message')}", peer=str(telco))
    if not isinstance(raw, dict):
        raise ProtocolError("malformed verification manifest", peer=str(telco))
    manifest = Manifest.from_wire(raw.get("manifest"))
    if raw.get("table") == "full":
        tags = check_table(manifest, recv_batches(
            inner.sub("table"), telco, V3_TABLE, manifest.rows * ELEMENTS_PER_TRIPLE,
            width=TAG_BYTES, batch_rows=p.batch_rows))
    elif cached is not None and cached[0].digest == manifest.digest:
        tags = cached[1]
    else:
        raise ProtocolError("telco sent no table and ours is stale", peer=str(telco))
    send_batches(inner.sub("blinded"), telco, V3_BLINDED, query.blinded, batch_rows=p.batch_rows)
    evaluated = recv_batches(inner.sub("evaluated"), telco, V3_EVALUATED, query.padded,
                             width=query.blinded.shape[1], batch_rows=p.batch_rows)
    flags = finish(query, p, manifest, tags, evaluated, executor=inner.executor)
    summary = {"triples": query.n, "padded_elements": query.padded,
               "table": str(raw.get("table")), "rows": manifest.rows,
               "seconds": round(time.perf_counter() - started, 4),
               "bytes_sent": meter.bytes_sent, "bytes_received": meter.bytes_received}
    return Verify3Result(flags, manifest, summary)
