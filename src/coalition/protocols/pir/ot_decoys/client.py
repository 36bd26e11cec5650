"""OT-with-decoys PIR, client role. Protocol and leakage: :mod:`.server`."""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np

from coalition.core.context import Context
from coalition.core.errors import CryptoError, ProtocolError
from coalition.core.ids import Party
from coalition.protocols.pir.manifest import Manifest
from coalition.protocols.pir.ot_decoys import kn
from coalition.protocols.pir.ot_decoys.decoys import PublicDecoyPool, candidates
from coalition.protocols.pir.records import unpad_payload
from coalition.protocols.pir.session import Batch
from coalition.protocols.pir.spec import PIR_ANSWERS, PIR_CHOICES
from coalition.protocols.psi.canonical import Canonicaliser

__all__ = ["lookup"]


def lookup(ctx: Context, server: Party, batch: Batch, m: Manifest, answer: dict[str, Any],
           *, k: int, pool: PublicDecoyPool | None = None
           ) -> tuple[list[bool], list[bytes | None], dict[str, Any]]:
    """Hide each unique query among ``k - 1`` decoys (format-preserving random strings, or
    from a public ``pool`` when it is large enough, canonical form; never another query of the
    batch) and fetch its answer by 1-out-of-k OT."""
    a_point = answer.get("ot_point")
    if not isinstance(a_point, bytes):
        raise ProtocolError("server sent no OT point", peer=str(server))
    canon_pool = (Canonicaliser(case=m.case).many(list(pool.ids))  # type: ignore[arg-type]
                  if pool and pool.ids else [])
    queried = frozenset(batch.unique)
    ids: list[str] = []
    choices: list[int] = []
    for i in range(batch.padded):
        real = batch.unique[i] if i < len(batch.unique) else None
        template = real if real is not None else (
            secrets.choice(batch.unique) if batch.unique else secrets.token_hex(8))
        group, position = candidates(real, k, template, canon_pool, exclude=queried)
        ids.extend(group)
        choices.append(position)
    scalars, points = kn.receiver_choose(a_point, choices, k, m.suite)
    ctx.send(server, PIR_CHOICES, {"ids": ids, "points": points})
    width = m.layout.plain_bytes + 1
    raw = ctx.recv(server, PIR_ANSWERS)
    if (not isinstance(raw, np.ndarray) or raw.dtype != np.uint8
            or raw.shape != (batch.padded, k, width)):
        raise ProtocolError("malformed OT answers", peer=str(server))
    n = len(batch.unique)
    pads = kn.receiver_pads(a_point, scalars[:n * kn.DIGITS],
                                points[:n * kn.DIGITS], choices[:n], k=k,
                                length=width, suite=m.suite)
    mine = raw[np.arange(n), np.asarray(choices[:n], dtype=np.intp)] ^ pads
    hits: list[bool] = []
    payloads: list[bytes | None] = []
    for row in mine:
        if row[0] not in (0, 1):
            raise CryptoError("OT answer did not decode (wrong pad or tampered)")
        hits.append(bool(row[0]))
        payloads.append(unpad_payload(row[1:].tobytes()) if row[0] else None)
    return hits, payloads, {"table_transfer": "none", "decoys": k}
