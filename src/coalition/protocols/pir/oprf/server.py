"""Keyword PIR, OPRF modes (``download``, ``bucketed``), server (data provider) side.

Keyword PIR from an OPRF (the default; Freedman et al., TCC 2005 "Keyword search and oblivious
pseudorandom functions"; the OPRF is RFC 9497-style, :mod:`coalition.crypto.oprf`)::

    C -> S : hello (mode, padded batch size m, cached table version)
    S      : quota check for (client, epoch): refusal, or
    S -> C : signed manifest (Ed25519 over table id, epoch, version, rows, Merkle root)
    download:  S -> C : whole encrypted table of the epoch, or the delta since C's copy
    C -> S : [r_i]H1(x_i) for m padded queries            (fresh blind each)
    S -> C : [k][r_i]H1(x_i)
    bucketed:  C -> S : one bucket index per padded query (b-bit tag prefix)
               S -> C : those buckets' records + Merkle proofs
    C      : F(k, x) -> tag, key; find the tag, decrypt the record (ChaCha20-Poly1305)

Under the table's ``sm`` crypto suite: SM2 OPRF with SM3, SM2 manifest signature, HMAC-SM3
tags/keys and SM4-GCM records (:mod:`..records`); the same messages and leakage.

Who learns what (honest-but-curious; one-more-gap-DH for the OPRF):

* the server learns the client's identity, the mode and the padded batch size ``m`` (a power
  of two >= ``min_batch``); in ``bucketed`` mode also one bucket per padded query, so each real
  query is hidden among about ``rows / 2**bucket_bits`` rows (k-anonymity; repeated queries of
  one ID hit the same bucket). Nothing else: blinded elements are uniform in the group;
* the client learns the table size, the epoch's tags (pseudorandom, unlinkable to IDs without
  the key), the number of rows changed between versions, and the payloads of the IDs it queried
  — at most ``m`` OPRF values per batch, bounded per epoch by the server's quota
  (:mod:`coalition.protocols.pir.quota`); it cannot decrypt any other row (each row's key is derived from ``F(k, id)``).

"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Context, Executor
from coalition.core.errors import ProtocolError
from coalition.core.ids import Party
from coalition.crypto.oprf import OprfServerKey, point_bytes
from coalition.protocols.pir.records import TAG_BYTES
from coalition.protocols.pir.session import Hello, send_manifest
from coalition.protocols.pir.spec import (
    PIR_BLINDED,
    PIR_BUCKET_REQUEST,
    PIR_BUCKETS,
    PIR_EVALUATED,
    PIR_TABLE,
    PIR_TABLE_INFO,
)
from coalition.protocols.pir.table import PirTable
from coalition.protocols.psi.session import Progress
from coalition.protocols.psi.wire import recv_batches, send_batches

__all__ = ["evaluate_blinded", "serve_bucketed", "serve_download"]

ADDED, REMOVED = "added", "removed"


def _evaluate_chunk(args: tuple[bytes, npt.NDArray[np.uint8], str]) -> npt.NDArray[np.uint8]:
    key, points, suite = args
    return OprfServerKey(key, suite).evaluate(points)


def evaluate_blinded(key: OprfServerKey, blinded: npt.NDArray[np.uint8],
                     executor: Executor | None) -> npt.NDArray[np.uint8]:
    """``[k]B`` for every blinded element, subgroup checks included, split over the party's
    own workers: ``OprfServerKey.evaluate`` parallelises only batches of thousands, and the
    online batch (about 1,000 elements) is the latency the client waits for."""
    workers = executor.workers if executor is not None else 1
    if executor is None or workers == 1 or blinded.shape[0] < 64:
        return key.evaluate(blinded)
    parts = executor.map(_evaluate_chunk, [(key.to_bytes(), blinded[sl], key.suite) for sl in
                                           chunk_slices(blinded.shape[0], workers)])
    return np.concatenate(parts)


def _evaluate(ctx: Context, client: Party, table: PirTable, hello: Hello) -> float:
    blinded = recv_batches(ctx.sub("blinded"), client, PIR_BLINDED, hello.n,
                           width=point_bytes(table.settings.suite), batch_rows=hello.batch_rows)
    t0 = time.perf_counter()
    evaluated = evaluate_blinded(table.prf.key, blinded, ctx.executor)
    online = time.perf_counter() - t0
    send_batches(ctx.sub("evaluated"), client, PIR_EVALUATED, evaluated,
                 batch_rows=hello.batch_rows)
    return online


def serve_download(ctx: Context, client: Party, table: PirTable, hello: Hello,
                   progress: Progress | None) -> dict[str, Any]:
    """Download mode: the table (or delta), then one OPRF round trip."""
    send_manifest(ctx, client, table.signed)
    delta = table.delta_since(*hello.cached) if hello.cached is not None else None
    if delta is None:
        added, removed, transfer = table.records, table.records[:0, :TAG_BYTES], "full"
    else:
        (added, removed), transfer = delta, "delta"
    ctx.send(client, PIR_TABLE_INFO, {"mode": transfer, "n_added": int(added.shape[0]),
                                      "n_removed": int(removed.shape[0])})
    send_batches(ctx.sub(ADDED), client, PIR_TABLE, added, batch_rows=hello.batch_rows)
    send_batches(ctx.sub(REMOVED), client, PIR_TABLE, np.ascontiguousarray(removed),
                 batch_rows=hello.batch_rows)
    if progress is not None:
        progress("send table", 1, 1)
    return {"online_s": _evaluate(ctx, client, table, hello), "table_transfer": transfer,
            "records_sent": int(added.shape[0])}


def serve_bucketed(ctx: Context, client: Party, table: PirTable, hello: Hello,
                   progress: Progress | None) -> dict[str, Any]:
    """Bucketed mode: one OPRF round trip, then the requested buckets with proofs."""
    send_manifest(ctx, client, table.signed)
    online = _evaluate(ctx, client, table, hello)
    req = ctx.recv(client, PIR_BUCKET_REQUEST)
    n_buckets = 1 << table.settings.bucket_bits
    if (not isinstance(req, np.ndarray) or req.dtype.kind not in "iu" or req.shape != (hello.n,)
            or (req.size and (req.min() < 0 or req.max() >= n_buckets))):
        raise ProtocolError("malformed bucket request", peer=str(client))
    t0 = time.perf_counter()
    wanted = np.unique(req.astype(np.int64))
    parts = [table.bucket(int(j)) for j in wanted]
    records = (np.concatenate([p[0] for p in parts]) if parts else table.records[:0])
    proofs = np.frombuffer(b"".join(b"".join(p[1]) for p in parts), dtype=np.uint8).reshape(
        len(parts), table.settings.bucket_bits, 32)
    ctx.send(client, PIR_BUCKETS, {
        "index": wanted, "counts": np.array([p[0].shape[0] for p in parts], dtype=np.int64),
        "records": records, "proofs": proofs})
    if progress is not None:
        progress("send buckets", 1, 1)
    return {"online_s": online + time.perf_counter() - t0, "table_transfer": "buckets",
            "buckets": int(wanted.size), "records_sent": int(records.shape[0])}
