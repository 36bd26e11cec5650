"""Consistent snapshots of a node database while the node runs, and their restore.

SQLite: the online backup API (``sqlite3.Connection.backup``, https://sqlite.org/backup.html)
copies a transaction-consistent image page by page while writers carry on. PostgreSQL:
``pg_dump --format=custom`` reads everything in one repeatable-read snapshot and
``pg_restore`` loads it into an empty database; both are PostgreSQL's own client programs,
found on ``PATH``, in ``PG_BIN`` or under ``/usr/lib/postgresql/*/bin``. The password of a
URL travels in ``PGPASSWORD``, never on a command line other users can list.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

from coalition.core.errors import ConfigError, ConflictError

__all__ = ["SNAPSHOT_FILES", "backend_of", "restore_snapshot", "snapshot"]

# The file name of the snapshot in a backup, per backend.
SNAPSHOT_FILES = {"sqlite": "node.db", "postgresql": "node.pgdump"}


def backend_of(url: str) -> str:
    """``sqlite`` or ``postgresql`` (anything else is refused)."""
    backend = make_url(url).get_backend_name()
    if backend not in SNAPSHOT_FILES:
        raise ConfigError("backups support SQLite and PostgreSQL databases", backend=backend)
    return backend


def snapshot(url: str, out: Path) -> None:
    """Write a consistent snapshot of the database at ``url`` to the file ``out``."""
    if backend_of(url) == "sqlite":
        source = _sqlite_file(url)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(out)
        try:
            with dst:
                src.backup(dst, pages=1024)  # steps let writers in between
        finally:
            dst.close()
            src.close()
    else:
        libpq, env = _libpq(url)
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(out), "--dbname", libpq], env)


def restore_snapshot(url: str, snapshot_file: Path) -> None:
    """Load ``snapshot_file`` into the database at ``url``, which must hold no table yet."""
    engine = create_engine(url)
    try:
        existing = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if existing:
        raise ConflictError("restore needs an empty database", tables=len(existing))
    if backend_of(url) == "sqlite":
        target = _sqlite_file(url)
        src = sqlite3.connect(f"file:{snapshot_file}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
        target.chmod(0o600)
    else:
        libpq, env = _libpq(url)
        _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              "--dbname", libpq, str(snapshot_file)], env)


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ConfigError("an in-memory database has nothing to back up")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq connection URL without its password, and the environment carrying it."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    configured = os.environ.get("PG_BIN")
    candidates = [str(Path(configured) / name)] if configured else []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    for candidate in candidates:
        if Path(candidate).is_file():
            return candidate
    raise ConfigError("PostgreSQL client program not found (install it or set PG_BIN)", tool=name)


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # The first line only: libpq errors name the server, never the password.
        first = (result.stderr.strip().splitlines() or ["no output"])[0][:300]
        raise ConfigError(f"{Path(argv[0]).name} failed: {first}")
