"""On-disk layout of a :class:`~coalition.protocols.pir.table.PirTable` (server-local).

One folder: ``settings.json``, ``signing.key`` (Ed25519 seed or SM2 key in the
table's suite, mode 0600), ``verify.key`` (the
public key to give clients), ``state.npz`` (records, ID digests, padded plaintexts; numpy with
``allow_pickle=False``), ``log.npz`` (the delta log) and ``prf/`` (the OPRF key and PRF cache,
:class:`~coalition.protocols.psi.oprf.cache.PrfTable`). State saved under another epoch than
the PRF cache's is discarded on load (a rotation interrupted half-way rebuilds).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.core.errors import ConfigError, CryptoError
from coalition.crypto.signing import SigningKey
from coalition.protocols.pir.settings import TableSettings

__all__ = ["MAX_LOG", "load_settings", "load_state", "save_settings", "save_state"]

U8 = npt.NDArray[np.uint8]
MAX_LOG = 32  # versions kept for deltas; older clients download the full table
LogEntry = tuple[int, U8, U8]


def save_settings(path: Path, settings: TableSettings, key: SigningKey) -> None:
    """Write settings and keys (the seed readable by the owner only)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "settings.json").write_text(json.dumps(settings.to_dict(), indent=2,
                                                   ensure_ascii=False))
    fd = os.open(path / "signing.key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.to_seed())
    (path / "verify.key").write_text(key.verify_key.to_bytes().hex() + "\n")


def load_settings(path: Path) -> tuple[TableSettings, SigningKey]:
    """Read what :func:`save_settings` wrote."""
    try:
        settings = TableSettings.from_dict(json.loads((path / "settings.json").read_text()))
        key = SigningKey((path / "signing.key").read_bytes(), settings.suite)
    except (OSError, ValueError, CryptoError) as exc:
        raise ConfigError("not a PIR table folder (run `coalition pir build` first)",
                          path=str(path)) from exc
    return settings, key


def save_state(path: Path, *, epoch: str, version: int, next_slot: int, records: U8,
               digests: U8, plain: U8, log: list[LogEntry]) -> None:
    """Write the table state and delta log."""
    np.savez(path / "state.npz", epoch=np.array(epoch), version=np.array(version),
             next_slot=np.array(next_slot), records=records, digests=digests, plain=plain)
    arrays: dict[str, Any] = {"versions": np.array([e[0] for e in log], np.int64)}
    for v, added, removed in log:
        arrays[f"a{v}"], arrays[f"r{v}"] = added, removed
    np.savez(path / "log.npz", **arrays)


def load_state(path: Path, epoch: str) -> tuple[int, int, U8, U8, U8, list[LogEntry]] | None:
    """``(version, next_slot, records, digests, plain, log)``, or None if absent or stale."""
    if not (path / "state.npz").is_file():
        return None
    with np.load(path / "state.npz", allow_pickle=False) as s:
        if str(s["epoch"]) != epoch:
            return None
        state = (int(s["version"]), int(s["next_slot"]), s["records"], s["digests"],
                 s["plain"])
    with np.load(path / "log.npz", allow_pickle=False) as lg:
        log = [(int(v), lg[f"a{v}"], lg[f"r{v}"]) for v in lg["versions"]]
    return (*state, log)
