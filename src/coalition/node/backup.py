"""``coalition node backup`` / ``restore``: a node's database, keys, certificates, models and
files in one folder, taken while the node runs.

What a backup holds (``backup.json`` lists every file with its SHA-256):

* ``database/`` — a transaction-consistent snapshot (:mod:`coalition.node.db.dump`: SQLite's
  online backup API, or ``pg_dump``), with the schema revision it was at;
* ``home/`` — the node home (settings, identity key and certificate, audit and credentials
  keys, models, artifacts, job folders, ``data/``), without the database file and the log;
* ``keys/`` — the audit key, audit checkpoint and credentials key when the settings keep
  them outside the home (restore puts them back where the restored settings say).

Consistency while running: the signed audit checkpoint is read *before* the database
snapshot, so it never names an entry the snapshot lacks (a restored node would otherwise
refuse to start, reporting a truncated trail). Files are copied after the snapshot: a model
part written meanwhile is carried although no row names it yet, which is harmless.
Dataset files in ``data_dirs`` outside the home are the organisation's own sources and are
not copied.

Restore writes into an empty or new home, checks every checksum first, loads the snapshot into
the (empty) database the restored settings name, then opens the node once: pending migrations
run (a backup of an older release is upgraded) and the audit trail is verified against its
checkpoint and keys, exactly as at a normal start.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coalition import __version__
from coalition.core.errors import ConfigError, ConflictError, InputError
from coalition.node.audit import trail
from coalition.node.db.dump import SNAPSHOT_FILES, backend_of, restore_snapshot, snapshot
from coalition.node.db.engine import Database, current_revision
from coalition.node.db.types import utcnow
from coalition.node.runtime import NodeRuntime
from coalition.node.settings import NodeSettings

__all__ = ["MANIFEST", "BackupResult", "RestoreResult", "backup_node", "restore_node"]

MANIFEST = "backup.json"
FORMAT = 1
_SKIP = ("node.db", "node.db-journal", "node.db-wal", "node.db-shm", "node.log")


@dataclass(frozen=True)
class BackupResult:
    """What :func:`backup_node` wrote."""

    out: Path
    name: str
    backend: str
    revision: str | None
    files: int


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore_node` restored; ``revision`` is the schema after migrating."""

    home: Path
    name: str
    backend: str
    backup_revision: str | None
    revision: str | None
    audit_entries: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key_files(settings: NodeSettings) -> dict[str, Path]:
    """Secrets whose copy must be taken at a fixed moment or may live outside the home."""
    return {"audit-checkpoint.json": settings.audit_checkpoint_path,
            "audit.key": settings.audit_key_path,
            "credentials.key": settings.credentials_key_path}


def _place(settings: NodeSettings, path: Path) -> str:
    """Where a key file goes in the backup: under ``home/`` if it lives there, else ``keys/``."""
    resolved, home = path.resolve(), settings.home.resolve()
    if resolved.is_relative_to(home):
        return f"home/{resolved.relative_to(home).as_posix()}"
    return f"keys/{path.name}"


def backup_node(home: Path, out: Path) -> BackupResult:
    """Back up the node at ``home`` into the new folder ``out`` (the node may be running)."""
    settings = NodeSettings.load(home)
    backend = backend_of(settings.db_url)
    if out.exists():
        raise ConflictError("the backup folder exists already", path=str(out))
    out.mkdir(parents=True, mode=0o700)
    os.chmod(out, 0o700)
    keys = _key_files(settings)
    # 1. the checkpoint before the snapshot (see the module docstring), the other keys with it
    placed: dict[str, Path] = {}
    for path in keys.values():
        if path.is_file():
            target = out / _place(settings, path)
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copy2(path, target)
            placed[str(path.resolve())] = target
    # 2. the database
    db = Database(settings.db_url)
    try:
        revision = current_revision(db.engine)
    finally:
        db.dispose()
    (out / "database").mkdir(mode=0o700)
    snapshot(settings.db_url, out / "database" / SNAPSHOT_FILES[backend])
    # 3. the rest of the home
    root = settings.home.resolve()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_symlink() or not path.is_file() or str(path.resolve()) in placed:
            continue
        if len(rel.parts) == 1 and rel.name in _SKIP:
            continue
        target = out / "home" / rel
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(path, target)
    files = {p.relative_to(out).as_posix(): _sha256(p) for p in sorted(out.rglob("*"))
             if p.is_file()}
    manifest: dict[str, Any] = {
        "format": FORMAT, "coalition": __version__, "node": settings.name,
        "created_at": utcnow().isoformat(), "backend": backend, "revision": revision,
        "keys": {name: _place(settings, path) for name, path in keys.items() if path.is_file()},
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                encoding="utf-8")
    return BackupResult(out, settings.name, backend, revision, len(files))


def _manifest(backup: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError("not a node backup: backup.json missing or unreadable") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError("unsupported backup format")
    for rel, digest in manifest["files"].items():
        path = backup / rel
        if not path.is_file() or _sha256(path) != digest:
            raise InputError("backup file missing or changed", file=rel)
    return manifest


def _external_keys(manifest: dict[str, Any], settings: NodeSettings) -> list[tuple[str, Path]]:
    """Key files kept outside the home that restore must write: ``(backup path, target)``.

    A file already at the target is accepted only with the backed-up content (a node on this
    machine may be using it); a different one is a :class:`ConflictError`, never overwritten.
    """
    out = []
    for name, path in _key_files(settings).items():
        placed = manifest["keys"].get(name)
        if placed is None or not placed.startswith("keys/"):
            continue
        if path.exists():
            if _sha256(path) != manifest["files"][placed]:
                raise ConflictError("a different key file exists where the settings put it",
                                    path=str(path))
            continue
        out.append((placed, path))
    return out


def _copy_tree(source: Path, home: Path) -> None:
    for path in sorted(source.rglob("*")):
        target = home / path.relative_to(source)
        if path.is_dir():
            target.mkdir(exist_ok=True, mode=0o700)
        else:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copy2(path, target)


def _empty(home: Path, *, remove: bool) -> None:
    if remove:
        shutil.rmtree(home, ignore_errors=True)
        return
    for child in home.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def restore_node(backup: Path, home: Path, *, database_url: str | None = None) -> RestoreResult:
    """Restore ``backup`` into ``home`` (new or empty), optionally onto another empty database.

    ``database_url`` replaces the backed-up setting (it must name the same kind of database as
    the backup's); without it a SQLite node gets ``home/node.db`` again, a PostgreSQL node its
    old URL, whose database must be empty.
    """
    manifest = _manifest(backup)
    if home.exists() and any(home.iterdir()):
        raise ConflictError("restore needs a new or empty node home", path=str(home))
    # Every refusal before the first write: the settings as they will be, read in the backup.
    planned = NodeSettings.load(backup / "home", database_url=database_url)
    if backend_of(planned.db_url) != manifest["backend"]:
        raise ConfigError("the backup's database is of another kind than the target",
                          backup=manifest["backend"])
    external = _external_keys(manifest, planned)
    created = not home.exists()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        _copy_tree(backup / "home", home)
        settings = NodeSettings.load(home, database_url=database_url)
        if database_url is not None:
            settings.save()
        for placed, path in external:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copy2(backup / placed, path)
        restore_snapshot(settings.db_url,
                         backup / "database" / SNAPSHOT_FILES[manifest["backend"]])
        rt = NodeRuntime.open(settings)  # migrates forward, verifies the trail, or refuses
    except BaseException:
        _empty(home, remove=created)  # no half-restored home is left to start by mistake
        raise
    try:
        revision = current_revision(rt.db.engine)
        with rt.db.session() as session:
            entries = trail.verify(session).checked
    finally:
        rt.close()
    return RestoreResult(home, settings.name, manifest["backend"], manifest["revision"], revision,
                         entries)
