"""PRF tables for unbalanced / periodic OPRF-PSI, cached between runs.

Server side, :class:`PrfTable`: the large party's table ``F(k, y)`` (truncated to
``prf_bytes``) for every ID ``y``, under one key epoch. :meth:`PrfTable.sync` compares the
current IDs with the cached ones (by a local digest that never leaves the party: SHA-256, or
SM3 for an epoch begun under the ``sm`` suite; :func:`id_digests`) and
evaluates the PRF **only for new IDs**; IDs that disappeared become tombstones. Every change
bumps ``version`` and is logged, so a client holding version ``v`` can be sent just the
additions and tombstones since ``v`` (:meth:`PrfTable.delta_since`). :meth:`PrfTable.rotate_key`
starts a new epoch: new key, empty table, full rebuild on the next sync, and every client's
copy becomes useless (they get the full table again). The key lives in the group of the
table's crypto suite (``suite=``); a table saved under another suite starts a new epoch. A
changed row with the same ID keeps its PRF value (PSI compares IDs only); a changed ID is a
tombstone plus an addition.

The digest algorithm is recorded per epoch (``meta.json``'s ``id_digest``; absent means SHA-256,
what every table saved before it was recorded used), so a table saved by an older build keeps
matching its rows until its next key rotation, when the suite's hash takes over.

Client side, :class:`ClientTableCache`: the server's table as of ``(epoch, version)``, per server.

Storage: one folder per table — ``meta.json``, ``key.bin`` (the OPRF secret, mode 0600),
``table.npz`` and ``log.npz`` (numpy, ``allow_pickle=False``). With ``path=None`` the table
lives in memory only.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.core.context import Executor
from coalition.core.errors import ConfigError, InputError
from coalition.crypto.oprf import OprfServerKey
from coalition.crypto.sm.sm3 import sm3
from coalition.crypto.suite import CryptoSuite, digest_alg
from coalition.protocols.psi.inputs import IdSet
from coalition.protocols.psi.matching import as_keys, contains

__all__ = ["ClientTableCache", "PrfTable", "SyncStats", "id_digests",
           "sorted_rows"]

U8 = npt.NDArray[np.uint8]
DIGEST_BYTES = 16
MAX_LOG = 32  # versions kept for deltas; older clients get the full table


def id_digests(ids: Sequence[str], algorithm: str = "sha256") -> U8:
    """Party-local digests of canonical IDs (row matching between syncs; never sent): the first
    16 bytes of SHA-256 or SM3 (``algorithm``) of each ID's UTF-8 bytes."""
    if algorithm not in ("sha256", "sm3"):
        raise ConfigError("unknown ID digest algorithm", algorithm=algorithm)
    if not ids:
        return np.zeros((0, DIGEST_BYTES), dtype=np.uint8)
    hash_ = sm3 if algorithm == "sm3" else _sha256
    raw = b"".join(hash_(x.encode("utf-8"))[:DIGEST_BYTES] for x in ids)
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, DIGEST_BYTES).copy()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sorted_rows(values: U8) -> npt.NDArray[np.int64]:
    """Row order that sorts ``values`` bytewise (the order tables travel in)."""
    return np.argsort(as_keys(values), kind="stable").astype(np.int64)


@dataclass(frozen=True)
class SyncStats:
    """What one :meth:`PrfTable.sync` did."""

    added: int
    removed: int
    reused: int
    version: int
    epoch: str


class PrfTable:
    """The server's cached PRF table for one key epoch (see module docstring)."""

    def __init__(self, path: str | Path | None = None, *, prf_bytes: int = 12,
                 suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
        if not 8 <= prf_bytes <= 32:
            raise ConfigError("prf_bytes must be in 8..32", prf_bytes=prf_bytes)
        self.path = Path(path) if path is not None else None
        self.prf_bytes = prf_bytes
        self.suite = CryptoSuite(suite)
        self._log: list[tuple[int, U8, U8]] = []
        if self.path is not None and (self.path / "meta.json").is_file():
            self._load(self.path)
        else:
            self.rotate_key()

    # -- state ----------------------------------------------------------------------------
    def rotate_key(self) -> None:
        """New key and epoch; the table is rebuilt from scratch on the next sync."""
        self.key = OprfServerKey.generate(self.suite)
        self.id_digest = digest_alg(self.suite)
        self.epoch = secrets.token_hex(16)
        self.version = 0
        self.digests = np.zeros((0, DIGEST_BYTES), dtype=np.uint8)
        self.prfs = np.zeros((0, self.prf_bytes), dtype=np.uint8)
        self._log = []
        self._save()

    def __len__(self) -> int:
        return int(self.prfs.shape[0])

    def sync(self, ids: IdSet, executor: Executor | None = None) -> SyncStats:
        """Bring the table in line with ``ids``: PRF only for new IDs, tombstones for gone ones."""
        current = id_digests(ids.ids, self.id_digest)
        keep = contains(current, self.digests)
        new_rows = np.flatnonzero(~contains(self.digests, current))
        fresh = self.key.evaluate_direct([ids.ids[i].encode("utf-8") for i in new_rows],
                                         executor=executor)
        added = (np.frombuffer(b"".join(f[:self.prf_bytes] for f in fresh), dtype=np.uint8)
                 .reshape(-1, self.prf_bytes).copy() if fresh
                 else np.zeros((0, self.prf_bytes), dtype=np.uint8))
        removed = self.prfs[~keep]
        if added.shape[0] or removed.shape[0]:
            self.version += 1
            self._log = [*self._log, (self.version, added, removed)][-MAX_LOG:]
        self.digests = np.concatenate([self.digests[keep], current[new_rows]])
        self.prfs = np.concatenate([self.prfs[keep], added])
        self._save()
        return SyncStats(added=int(added.shape[0]), removed=int(removed.shape[0]),
                         reused=int(keep.sum()), version=self.version, epoch=self.epoch)

    def values_for(self, ids: IdSet) -> U8:
        """The PRF value of each of ``ids`` (which must be synced), in ``ids`` order."""
        current = as_keys(id_digests(ids.ids, self.id_digest))
        table = as_keys(self.digests)
        order = np.argsort(table, kind="stable")
        pos = np.searchsorted(table[order], current) if table.size else np.zeros(0, np.int64)
        if current.size and (pos.max() >= table.size or np.any(table[order][pos] != current)):
            raise InputError("IDs are not in the PRF table; call sync() first")
        return self.prfs[order[pos]] if current.size else self.prfs[:0]

    def delta_since(self, epoch: str, version: int) -> tuple[U8, U8] | None:
        """``(added, tombstones)`` since ``version`` of ``epoch``, or None if unknown/too old."""
        if epoch != self.epoch or version > self.version:
            return None
        entries = [e for e in self._log if e[0] > version]
        if len(entries) != self.version - version:
            return None
        if not entries:
            empty = np.zeros((0, self.prf_bytes), dtype=np.uint8)
            return empty, empty.copy()
        # a value added then removed within the span cancels out (IDs are unique per epoch)
        added = np.concatenate([e[1] for e in entries])
        removed = np.concatenate([e[2] for e in entries])
        return added[~contains(removed, added)], removed[~contains(added, removed)]

    # -- storage --------------------------------------------------------------------------
    def _save(self) -> None:
        if self.path is None:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        key_file = self.path / "key.bin"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.key.to_bytes())
        np.savez(self.path / "table.npz", digests=self.digests, prfs=self.prfs)
        arrays: dict[str, Any] = {"versions": np.array([e[0] for e in self._log], np.int64)}
        for version, added, removed in self._log:
            arrays[f"a{version}"], arrays[f"r{version}"] = added, removed
        np.savez(self.path / "log.npz", **arrays)
        (self.path / "meta.json").write_text(json.dumps(
            {"epoch": self.epoch, "version": self.version, "prf_bytes": self.prf_bytes,
             "suite": self.suite.value, "id_digest": self.id_digest}))

    def _load(self, path: Path) -> None:
        meta = json.loads((path / "meta.json").read_text())
        if meta["prf_bytes"] != self.prf_bytes:
            raise ConfigError("cached PRF table has another width; rotate the key",
                              cached=meta["prf_bytes"], wanted=self.prf_bytes)
        if meta.get("suite", CryptoSuite.STANDARD.value) != self.suite.value:
            self.rotate_key()  # a key of the other suite's group: a new epoch in ours
            return
        self.key = OprfServerKey((path / "key.bin").read_bytes(), self.suite)
        self.id_digest = str(meta.get("id_digest", "sha256"))  # before it was recorded: SHA-256
        self.epoch, self.version = str(meta["epoch"]), int(meta["version"])
        with np.load(path / "table.npz", allow_pickle=False) as t:
            self.digests, self.prfs = t["digests"], t["prfs"]
        with np.load(path / "log.npz", allow_pickle=False) as lg:
            self._log = [(int(v), lg[f"a{v}"], lg[f"r{v}"]) for v in lg["versions"]]


class ClientTableCache:
    """The client's copies of servers' PRF tables, keyed by server name (see module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _file(self, server: str) -> Path:
        return self.path / f"{hashlib.sha256(server.encode()).hexdigest()[:32]}.npz"

    def load(self, server: str) -> tuple[str, int, U8] | None:
        """``(epoch, version, sorted table)`` for ``server``, or None."""
        f = self._file(server)
        if not f.is_file():
            return None
        with np.load(f, allow_pickle=False) as d:
            return str(d["epoch"]), int(d["version"]), d["table"]

    def forget(self, server: str) -> None:
        """Drop ``server``'s copy (the next run asks for the full table)."""
        self._file(server).unlink(missing_ok=True)

    def store(self, server: str, epoch: str, version: int, table: U8) -> None:
        """Keep ``table`` (sorted) as ``server``'s state ``(epoch, version)``."""
        self.path.mkdir(parents=True, exist_ok=True)
        np.savez(self._file(server), epoch=np.array(epoch), version=np.array(version),
                 table=table)
