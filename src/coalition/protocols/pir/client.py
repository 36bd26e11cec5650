"""Keyword PIR, client role: look up a batch of IDs without revealing them, in one of the
modes of :class:`~.spec.PirMode`. Protocol and leakage: :mod:`.oprf.server` (OPRF modes) and
:mod:`.ot_decoys.server` (OT with decoys); the mode's client side: :mod:`.oprf.client`,
:mod:`.ot_decoys.client`.

The client pins the server's Ed25519 key and checks everything it receives against the signed
manifest: a download-all copy (full or rebuilt from a delta) must reproduce the Merkle root, and
each bucket must verify with its proof; a tampered or truncated table raises
:class:`~coalition.core.errors.CryptoError`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from coalition.core.context import Context
from coalition.core.errors import ConfigError, ProtocolError
from coalition.crypto.signing import VerifyKey
from coalition.protocols.pir.oprf import client as oprf_client
from coalition.protocols.pir.ot_decoys import client as ot_decoys_client
from coalition.protocols.pir.ot_decoys.decoys import PublicDecoyPool, check_pool
from coalition.protocols.pir.results import PirResult, PirSummary
from coalition.protocols.pir.session import Hello, check_queries, prepare_batch, recv_manifest
from coalition.protocols.pir.spec import PirMode, PirParams, padded_size
from coalition.protocols.psi.oprf.cache import ClientTableCache
from coalition.protocols.psi.session import Progress
from coalition.protocols.psi.wire import metered

__all__ = ["run_client"]

def run_client(ctx: Context, ids: Sequence[Any], *, server_key: VerifyKey,
               params: PirParams | dict[str, Any] | None = None, table_id: str | None = None,
               cache: ClientTableCache | None = None, decoy_pool: PublicDecoyPool | None = None,
               progress: Progress | None = None) -> PirResult:
    """Look up ``ids`` (query order kept; duplicates allowed) in ``ctx.hosts[0]``'s table.

    ``server_key`` is the server's pinned manifest key; ``table_id`` the table expected;
    ``cache`` keeps the download-mode table between runs (deltas). ``ot_decoys`` sends every
    decoy in clear: by default they are format-preserving random strings (``secrets``); a
    ``decoy_pool`` must be a :class:`~.ot_decoys.decoys.PublicDecoyPool` of public or synthetic IDs —
    never the client's customer list — since the server sees every entry drawn (a plain list is
    refused with :class:`ConfigError`).
    """
    pool = check_pool(decoy_pool)
    started = time.perf_counter()
    p = PirParams.parse(params)
    inner, meter = metered(ctx, "pir")
    if len(inner.hosts) != 1:
        raise ProtocolError("PIR runs between one client (guest) and one server (host)")
    server = inner.hosts[0]
    queries = check_queries(ids)
    cache_name = f"{server}/{table_id or ''}"
    cached = cache.load(cache_name) if cache is not None and p.mode == PirMode.DOWNLOAD else None
    Hello(p.mode, padded_size(len(queries), p.min_batch), p.batch_rows,
          None if cached is None else (cached[0], cached[1]),
          p.decoys if p.mode == PirMode.OT_DECOYS else 0).send(inner, server)
    manifest, answer = recv_manifest(inner, server, server_key, table_id)
    if manifest.suite != p.suite.value:  # before any query-derived value leaves
        raise ConfigError("the PIR table runs another crypto suite", table=manifest.suite,
                          ours=p.suite.value)
    batch = prepare_batch(queries, padded_size(len(queries), p.min_batch), manifest.case)
    if p.mode == PirMode.OT_DECOYS:
        hits, payloads, info = ot_decoys_client.lookup(inner, server, batch, manifest, answer,
                                                       k=p.decoys,
                                                       pool=pool)
    else:
        table = oprf_client.download(inner, server, manifest, p, cached=cached,
                          progress=progress) \
            if p.mode == PirMode.DOWNLOAD else None
        unchanged = cached is not None and table is not None and table[1] == "delta" \
            and (cached[0], cached[1]) == (manifest.epoch, manifest.version)
        if table is not None and cache is not None and not unchanged:
            cache.store(cache_name, manifest.epoch, manifest.version, table[0])
        hits, payloads, info = oprf_client.lookup(inner, server, batch, manifest, p, table=table,
                                        progress=progress)
    found = [hits[w] for w in batch.where]
    summary = PirSummary(
        mode=p.mode.value, queries=len(queries), unique=len(batch.unique), padded=batch.padded,
        found=sum(found), table_id=manifest.table_id, epoch=manifest.epoch,
        version=manifest.version, table_transfer=str(info.pop("table_transfer", "none")),
        seconds=round(time.perf_counter() - started, 4), bytes_sent=meter.bytes_sent,
        bytes_received=meter.bytes_received, extra=info)
    return PirResult(queries, found, [payloads[w] for w in batch.where], manifest, summary)
