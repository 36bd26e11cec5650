"""Keyword PIR, OPRF modes (``download``, ``bucketed``), client side. Protocol and leakage:
:mod:`.server`.

Everything received is checked against the signed manifest: a downloaded table (full or
rebuilt from a delta) must reproduce the Merkle root, each bucket must verify with its proof.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Context
from coalition.core.errors import CryptoError, ProtocolError
from coalition.core.ids import Party
from coalition.crypto import oprf
from coalition.protocols.pir.manifest import (
    Manifest,
    bucket_digest,
    bucket_of,
    merkle_root_from,
    table_root,
)
from coalition.protocols.pir.records import PRF_BYTES, TAG_BYTES, open_record, tags_chunk
from coalition.protocols.pir.session import Batch
from coalition.protocols.pir.spec import (
    PIR_BLINDED,
    PIR_BUCKET_REQUEST,
    PIR_BUCKETS,
    PIR_EVALUATED,
    PIR_TABLE,
    PIR_TABLE_INFO,
    PirParams,
)
from coalition.protocols.psi.matching import as_keys, contains
from coalition.protocols.psi.session import Progress
from coalition.protocols.psi.wire import recv_batches, send_batches

__all__ = ["Answers", "download", "lookup"]

U8 = npt.NDArray[np.uint8]
Answers = tuple[list[bool], list[bytes | None], dict[str, Any]]


def download(ctx: Context, server: Party, m: Manifest, p: PirParams, *,
             cached: tuple[str, int, U8] | None,
             progress: Progress | None) -> tuple[U8, str]:
    """Download mode: receive the whole table, or the delta since ``cached``, and check it
    reproduces the signed manifest's root (:class:`CryptoError` if not). Returns the records
    (sorted by tag) and ``"full"`` or ``"delta"``."""
    info = ctx.recv(server, PIR_TABLE_INFO)
    if not isinstance(info, dict) or info.get("mode") not in ("full", "delta"):
        raise ProtocolError("malformed table info", peer=str(server))
    width = m.layout.record_bytes
    added = recv_batches(ctx.sub("added"), server, PIR_TABLE, int(info["n_added"]),
                         width=width, batch_rows=p.batch_rows)
    removed = recv_batches(ctx.sub("removed"), server, PIR_TABLE, int(info["n_removed"]),
                           width=TAG_BYTES, batch_rows=p.batch_rows)
    if info["mode"] == "full":
        records = added
    else:
        if cached is None or cached[0] != m.epoch or cached[2].shape[1] != width:
            raise ProtocolError("server sent a delta for a table we do not hold", peer=str(server))
        old = cached[2]
        kept = old[~contains(removed, old[:, :TAG_BYTES])] if removed.shape[0] else old
        records = np.concatenate([kept, added]) if added.shape[0] else kept
    if info["mode"] == "full" or added.shape[0]:
        records = records[np.argsort(as_keys(records[:, :TAG_BYTES]), kind="stable")]
    if records.shape[0] != m.rows or table_root(records, m.bucket_bits, m.suite).hex() != m.root:
        raise CryptoError("downloaded table does not match the signed manifest",
                          rows=int(records.shape[0]), expected_rows=m.rows)
    if progress is not None:
        progress("download table", 1, 1)
    return records, str(info["mode"])


def _unblind(args: tuple[oprf.BlindState, U8]) -> list[bytes]:
    return oprf.unblind_finalize(*args)


def _evaluate(ctx: Context, server: Party, batch: Batch, p: PirParams,
              progress: Progress | None, *, suite: str) -> U8:
    inputs = batch.with_dummies()
    ex = ctx.executor
    # oprf.blind parallelises only thousands of inputs; a batch is the latency that matters
    slices = chunk_slices(len(inputs), ex.workers) if len(inputs) >= 64 else [slice(None)]
    parts = ex.map(partial(oprf.blind, suite=suite), [inputs[sl] for sl in slices])
    blinded = np.concatenate([b for _, b in parts])
    send_batches(ctx.sub("blinded"), server, PIR_BLINDED, blinded, batch_rows=p.batch_rows)
    evaluated = recv_batches(ctx.sub("evaluated"), server, PIR_EVALUATED, batch.padded,
                             width=oprf.point_bytes(suite), batch_rows=p.batch_rows)
    bounds = np.cumsum([0, *[len(st.inputs) for st, _ in parts]])
    outs = [y for part in ex.map(_unblind, [(st, evaluated[bounds[i]:bounds[i + 1]])
                                            for i, (st, _) in enumerate(parts)]) for y in part]
    if progress is not None:
        progress("oblivious PRF", 1, 1)
    return np.frombuffer(b"".join(o[:PRF_BYTES] for o in outs), dtype=np.uint8).reshape(
        -1, PRF_BYTES)


def _fetch_buckets(ctx: Context, server: Party, m: Manifest, tags: U8) -> U8:
    ctx.send(server, PIR_BUCKET_REQUEST, bucket_of(tags, m.bucket_bits))
    raw = ctx.recv(server, PIR_BUCKETS)
    try:
        index, counts, records, proofs = (raw["index"], raw["counts"], raw["records"],
                                          raw["proofs"])
        bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        ok = records.shape == (int(bounds[-1]), m.layout.record_bytes) \
            and proofs.shape == (index.shape[0], m.bucket_bits, 32)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ProtocolError("malformed buckets", peer=str(server)) from exc
    if not ok:
        raise ProtocolError("malformed buckets", peer=str(server))
    root = bytes.fromhex(m.root)
    for b, j in enumerate(index.tolist()):
        part = records[bounds[b]:bounds[b + 1]]
        proof = [proofs[b, h].tobytes() for h in range(m.bucket_bits)]
        leaf = bucket_digest(int(j), part, m.suite)
        if merkle_root_from(leaf, int(j), proof, m.suite) != root:
            raise CryptoError("bucket does not match the signed manifest", bucket=int(j))
    if np.any(np.diff(index) <= 0):  # buckets in ascending order keep records tag-sorted
        raise ProtocolError("buckets out of order", peer=str(server))
    return np.asarray(records, dtype=np.uint8)


def lookup(ctx: Context, server: Party, batch: Batch, m: Manifest, p: PirParams,
           *, table: tuple[U8, str] | None, progress: Progress | None) -> Answers:
    """One OPRF round trip for the batch, then the records from ``table`` (download mode) or
    from the buckets fetched and verified now (bucketed mode, ``table=None``); decrypts the
    hits. Returns (hit per unique query, payload or None, transfer details)."""
    prfs = _evaluate(ctx, server, batch, p, progress, suite=m.suite)
    tags = tags_chunk(prfs, m.suite)
    if table is None:
        records, transfer = _fetch_buckets(ctx, server, m, tags), "buckets"
    else:
        records, transfer = table
    keys = as_keys(np.ascontiguousarray(records[:, :TAG_BYTES]))  # sorted by tag (verified)
    real = as_keys(np.ascontiguousarray(tags[:len(batch.unique)]))  # dummies are not looked up
    if keys.size and real.size:
        pos = np.minimum(np.searchsorted(keys, real), keys.size - 1)
        hit = keys[pos] == real
    else:
        pos, hit = np.zeros(real.size, np.int64), np.zeros(real.size, dtype=bool)
    hits = [bool(h) for h in hit]
    payloads: list[bytes | None] = [
        open_record(records[pos[i]].tobytes(), prfs[i].tobytes(), m.layout, m.table_id,
                    m.epoch, suite=m.suite) if h else None for i, h in enumerate(hits)]
    return hits, payloads, {"table_transfer": transfer, "records_received": len(records)}

