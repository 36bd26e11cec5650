"""The server's PIR table for one key epoch: build, incremental sync, deltas, key rotation.

:meth:`PirTable.sync` brings the table in line with the current rows. The OPRF values come from
the PSI engine's :class:`~coalition.protocols.psi.oprf.cache.PrfTable` (32-byte values), which
evaluates ``F(k, id)`` **only for IDs it has not seen in this epoch**, over the executor's
worker processes. Rows whose payload is unchanged keep their record; new and changed rows are
encrypted under the next version (:mod:`.records`). Every change bumps ``version``, logs the
added records and the tags of removed ones, and re-signs the manifest (:mod:`.manifest`), so a
client holding version ``v`` can be sent just the change (:meth:`PirTable.delta_since`).
:meth:`PirTable.rotate_key` starts a new epoch: new OPRF key, every record re-encrypted on the
next sync, every client copy useless.

Server-local state (never sent): the OPRF key, the ID digests and the padded plaintexts (kept
for the OT-with-decoys mode). Storage: one folder, see :mod:`.store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import InputError
from coalition.crypto.signing import SigningKey, VerifyKey
from coalition.protocols.pir import store
from coalition.protocols.pir.manifest import (
    Manifest,
    SignedManifest,
    bucket_bounds,
    merkle_proof,
    table_levels,
)
from coalition.protocols.pir.records import (
    PRF_BYTES,
    TAG_BYTES,
    RecordLayout,
    encrypt_chunk,
    pad_payloads,
)
from coalition.protocols.pir.settings import TableSettings
from coalition.protocols.psi.canonical import Canonicaliser
from coalition.protocols.psi.inputs import IdSet
from coalition.protocols.psi.matching import as_keys, contains, match
from coalition.protocols.psi.oprf.cache import DIGEST_BYTES, PrfTable, id_digests
from coalition.protocols.psi.session import Progress
from coalition.protocols.psi.spec import OnDuplicate

__all__ = ["PirTable", "TableStats"]

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class TableStats:
    """What one :meth:`PirTable.sync` did."""

    rows: int
    added: int
    changed: int
    removed: int
    unchanged: int
    prf_evaluated: int
    version: int
    epoch: str


class PirTable:
    """One table, one epoch at a time (see module docstring)."""

    def __init__(self, settings: TableSettings, path: str | Path | None = None, *,
                 signing_key: SigningKey | None = None) -> None:
        self.settings = settings
        self.layout = RecordLayout(settings.payload_bytes)
        self.path = Path(path) if path is not None else None
        self.signing_key = signing_key or SigningKey.generate(settings.suite)
        self.prf = PrfTable(self.path / "prf" if self.path else None, prf_bytes=PRF_BYTES,
                            suite=settings.suite)
        self._reset()
        if self.path is not None:
            store.save_settings(self.path, settings, self.signing_key)

    @classmethod
    def open(cls, path: str | Path) -> PirTable:
        """Load a table saved under ``path``."""
        settings, key = store.load_settings(Path(path))
        table = cls.__new__(cls)
        table.settings, table.signing_key = settings, key
        table.layout = RecordLayout(settings.payload_bytes)
        table.path = Path(path)
        table.prf = PrfTable(table.path / "prf", prf_bytes=PRF_BYTES, suite=settings.suite)
        state = store.load_state(table.path, table.prf.epoch)
        if state is None:
            table._reset()
        else:
            (table.version, table.next_slot, table.records, table.digests, table.plain,
             table._log) = state
            table._refresh()
        return table

    # -- state ----------------------------------------------------------------------------
    def _reset(self) -> None:
        self.version, self.next_slot = 0, 0
        self.records = np.zeros((0, self.layout.record_bytes), dtype=np.uint8)
        self.digests = np.zeros((0, DIGEST_BYTES), dtype=np.uint8)
        self.plain = np.zeros((0, self.layout.plain_bytes), dtype=np.uint8)
        self._log: list[tuple[int, U8, U8]] = []
        self._refresh()

    @property
    def epoch(self) -> str:
        """The current key epoch."""
        return self.prf.epoch

    @property
    def verify_key(self) -> VerifyKey:
        """The public key clients pin to check manifests."""
        return self.signing_key.verify_key

    def __len__(self) -> int:
        return int(self.records.shape[0])

    def rotate_key(self) -> None:
        """New OPRF key and epoch; the next :meth:`sync` re-encrypts every row."""
        self.prf.rotate_key()
        self._reset()
        self._save()

    def sync(self, ids: Sequence[str], payloads: Sequence[bytes], *,
             executor: Executor | None = None, progress: Progress | None = None) -> TableStats:
        """Bring the table in line with ``ids`` (unique after canonicalisation) and their
        ``payloads`` (at most ``payload_bytes`` each)."""
        if len(ids) != len(payloads):
            raise InputError("ids and payloads differ in length", ids=len(ids),
                             payloads=len(payloads))
        idset = IdSet.build(list(ids), on_duplicate=OnDuplicate.ERROR,
                            canonicaliser=Canonicaliser(case=self.settings.case))
        plain = pad_payloads(payloads, self.settings.payload_bytes)
        digests = id_digests(idset.ids, self.prf.id_digest)
        _tick(progress, "PRF of new IDs", 0, 1)
        prf_stats = self.prf.sync(idset, executor=executor)
        _tick(progress, "PRF of new IDs", 1, 1)
        prfs = self.prf.values_for(idset)

        new_at, old_at = match(digests, self.digests)
        same = np.all(plain[new_at] == self.plain[old_at], axis=1) if new_at.size else \
            np.zeros(0, dtype=bool)
        keep_old = old_at[same]
        fresh = np.setdiff1d(np.arange(len(idset)), new_at[same], assume_unique=True)
        removed_rows = np.setdiff1d(np.arange(len(self)), keep_old, assume_unique=True)
        changed = int((~same).sum())
        if fresh.size == 0 and removed_rows.size == 0:
            return self._stats(idset, 0, 0, 0, prf_stats.added)

        version = self.version + 1
        slots = np.arange(self.next_slot, self.next_slot + fresh.size, dtype=np.int64)
        added = self._encrypt(prfs[fresh], plain[fresh], slots, version, executor=executor,
                              progress=progress)
        removed_tags = np.ascontiguousarray(self.records[removed_rows, :TAG_BYTES])
        records = np.concatenate([self.records[keep_old], added])
        order = np.argsort(as_keys(records[:, :TAG_BYTES]), kind="stable")
        self.records = records[order]
        self.digests = np.concatenate([self.digests[keep_old], digests[fresh]])[order]
        self.plain = np.concatenate([self.plain[keep_old], plain[fresh]])[order]
        if self.version > 0:  # the first build is never sent as a delta
            self._log = [*self._log, (version, added, removed_tags)][-store.MAX_LOG:]
        self.version, self.next_slot = version, self.next_slot + int(fresh.size)
        self._refresh()
        self._save()
        return self._stats(idset, int(fresh.size) - changed, changed, int(removed_rows.size)
                           - changed, prf_stats.added)

    def _stats(self, idset: IdSet, added: int, changed: int, removed: int,
               evaluated: int) -> TableStats:
        return TableStats(rows=len(self), added=added, changed=changed, removed=removed,
                          unchanged=len(idset) - added - changed, prf_evaluated=evaluated,
                          version=self.version, epoch=self.epoch)

    def _encrypt(self, prfs: U8, plain: U8, slots: npt.NDArray[np.int64], version: int, *,
                 executor: Executor | None, progress: Progress | None) -> U8:
        n = prfs.shape[0]
        workers = executor.workers if executor is not None else 1
        slices = chunk_slices(n, max(1, workers) * 8, min_size=4096)
        jobs = [(prfs[sl], plain[sl], slots[sl], version, self.settings.table_id, self.epoch,
                 self.settings.suite.value) for sl in slices]
        parts: list[U8] = []
        step = max(1, workers)
        _tick(progress, "encrypt rows", 0, n)
        for i in range(0, len(jobs), step):
            batch = jobs[i:i + step]
            parts.extend(executor.map(encrypt_chunk, batch) if executor is not None
                         else [encrypt_chunk(j) for j in batch])
            _tick(progress, "encrypt rows", min(n, slices[min(i + step, len(jobs)) - 1].stop), n)
        return (np.concatenate(parts) if parts
                else np.zeros((0, self.layout.record_bytes), dtype=np.uint8))

    def _refresh(self) -> None:
        self._levels = table_levels(self.records, self.settings.bucket_bits,
                                    self.settings.suite)
        self._bounds = bucket_bounds(self.records, self.settings.bucket_bits)
        self._digest_order = np.argsort(as_keys(self.digests), kind="stable")
        self.manifest = Manifest(
            table_id=self.settings.table_id, epoch=self.epoch, version=self.version,
            rows=len(self), payload_bytes=self.settings.payload_bytes,
            bucket_bits=self.settings.bucket_bits, root=self._levels[-1][0].hex(),
            payload_format=self.settings.payload_format, columns=list(self.settings.columns),
            case=self.settings.case, suite=self.settings.suite.value)
        self.signed: SignedManifest = self.manifest.sign(self.signing_key)

    def _save(self) -> None:
        if self.path is not None:
            store.save_state(self.path, epoch=self.epoch, version=self.version,
                             next_slot=self.next_slot, records=self.records,
                             digests=self.digests, plain=self.plain, log=self._log)

    # -- serving --------------------------------------------------------------------------
    def delta_since(self, epoch: str, version: int) -> tuple[U8, U8] | None:
        """``(added records, removed tags)`` taking a copy at ``version`` of ``epoch`` to the
        current version, or None (unknown epoch, version too old or the first build)."""
        if epoch != self.epoch or not 0 < version <= self.version:
            return None
        entries = [e for e in self._log if e[0] > version]
        if len(entries) != self.version - version:
            return None
        if not entries:
            return self.records[:0], np.zeros((0, TAG_BYTES), dtype=np.uint8)
        added = np.concatenate([e[1] for e in entries])
        removed = np.concatenate([e[2] for e in entries])
        # net effect: drop every removed tag, then add the span's records still present
        return added[contains(self.records, added)], np.unique(removed, axis=0)

    def bucket(self, index: int) -> tuple[U8, list[bytes]]:
        """The records of bucket ``index`` and its Merkle proof."""
        lo, hi = int(self._bounds[index]), int(self._bounds[index + 1])
        return self.records[lo:hi], merkle_proof(self._levels, index)

    def lookup_plain(self, canonical_ids: Sequence[str]) -> tuple[npt.NDArray[np.bool_], U8]:
        """Server-local: whether each ID is in the table and its padded plaintext (zeros if
        not). For the OT-with-decoys mode."""
        n = len(canonical_ids)
        plain = np.zeros((n, self.layout.plain_bytes), dtype=np.uint8)
        if n == 0 or len(self) == 0:
            return np.zeros(n, dtype=bool), plain
        keys = as_keys(id_digests(canonical_ids, self.prf.id_digest))
        table = as_keys(self.digests)[self._digest_order]
        pos = np.minimum(np.searchsorted(table, keys), table.shape[0] - 1)
        found = np.asarray(table[pos] == keys, dtype=bool)
        plain[found] = self.plain[self._digest_order[pos[found]]]
        return found, plain


def _tick(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
