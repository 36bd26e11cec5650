"""OT-with-decoys PIR (匿踪查询 as older platforms ship it), server role.

::

    C -> S : hello (mode ot_decoys, padded batch size m, k)
    S -> C : signed manifest, A = [a]G                       (after the quota check)
    C -> S : m groups of k candidate IDs (the real one among k-1 decoys), B_1..B_m
    S -> C : for every candidate j of group i: (found, padded payload) xor pad_ij

Who learns what: the server learns every candidate ID — so that each real query is one of
``k`` (k-anonymity among the decoys, no better; a server that can tell decoys from customers
learns more, and one real ID queried twice among fresh decoys is exposed by intersecting the
candidate sets) — and the padded batch size; it does not learn which candidate is real
(1-out-of-k OT, :mod:`.kn`). The client learns exactly one answer per group. Prefer the
OPRF modes (:mod:`coalition.protocols.pir.server`) where the client can take the table download or the bucket size.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from coalition.core.context import Context
from coalition.core.errors import InputError, ProtocolError
from coalition.core.ids import Party
from coalition.crypto.suite import primitives
from coalition.protocols.pir.ot_decoys import kn
from coalition.protocols.pir.session import Hello, send_manifest
from coalition.protocols.pir.spec import PIR_ANSWERS, PIR_CHOICES
from coalition.protocols.pir.table import PirTable
from coalition.protocols.psi.canonical import Canonicaliser
from coalition.protocols.psi.session import Progress

__all__ = ["serve_ot_decoys"]


def serve_ot_decoys(ctx: Context, client: Party, table: PirTable, hello: Hello,
                    progress: Progress | None) -> dict[str, Any]:
    """Answer one batch of decoy groups (see module docstring)."""
    k = hello.decoys
    if k < 2:
        raise ProtocolError("ot_decoys needs k >= 2 candidates", peer=str(client), k=k)
    suite = table.settings.suite
    a, a_point = kn.sender_setup(suite)
    send_manifest(ctx, client, table.signed, ot_point=a_point)
    raw = ctx.recv(client, PIR_CHOICES)
    try:
        ids, points = raw["ids"], raw["points"]
        ok = (isinstance(ids, list) and len(ids) == hello.n * k
              and all(isinstance(x, str) for x in ids) and isinstance(points, np.ndarray)
              and points.dtype == np.uint8
              and points.shape == (hello.n * kn.DIGITS, primitives(suite).group.POINT_BYTES))
    except (KeyError, TypeError) as exc:
        raise ProtocolError("malformed OT choices", peer=str(client)) from exc
    if not ok:
        raise ProtocolError("malformed OT choices", peer=str(client), expected=[hello.n, k])
    t0 = time.perf_counter()
    try:
        canon = Canonicaliser(case=table.settings.case).many(ids)
    except InputError as exc:
        raise ProtocolError("client sent an invalid candidate ID", peer=str(client)) from exc
    found, plain = table.lookup_plain(canon)
    messages = np.concatenate([found.astype(np.uint8)[:, None], plain], axis=1)
    width = messages.shape[1]
    pads = kn.sender_pads(a, a_point, points, k, length=width,
                             executor=ctx.executor, suite=suite)
    answers = messages.reshape(hello.n, k, width) ^ pads
    online = time.perf_counter() - t0
    ctx.send(client, PIR_ANSWERS, answers)
    if progress is not None:
        progress("answer decoy groups", 1, 1)
    return {"online_s": online, "candidates": len(ids)}
