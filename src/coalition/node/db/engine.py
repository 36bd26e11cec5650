"""Engine, sessions and migrations for the node database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "alembic_config", "current_revision", "migrate", "serialise"]

T = TypeVar("T")
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked; PostgreSQL always enforces them.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def serialise(session: Session, name: str) -> None:
    """Hold the database-wide writer lock ``name`` until the session's transaction ends.

    For read-then-write sequences whose reads must see every earlier writer's commit (the
    audit chain's head, a job's state): writers of ``name`` run one after the other, in any
    number of threads or processes. PostgreSQL: a transaction-scoped advisory lock
    (``pg_advisory_xact_lock``; READ COMMITTED reads after it see the previous holder's commit).
    SQLite: its one write lock, taken now by an empty update rather than at the first write
    (SQLite has a single writer, so ``name`` does not matter there).

    Take several names always in the same order (``jobs`` before ``audit``); a deadlock with
    row locks is still possible on PostgreSQL and ends one transaction with an error that
    :meth:`Database.transaction` retries.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif bind.dialect.name == "sqlite":
        session.execute(text("UPDATE alembic_version SET version_num = version_num"))


def alembic_config() -> Config:
    """The Alembic configuration of the node's migrations (in code; there is no ``.ini``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the latest Alembic revision)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None``: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class Database:
    """An engine plus a session factory; :meth:`session` is one transaction."""

    def __init__(self, url: str) -> None:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    def set_session_info(self, **info: Any) -> None:
        """Objects every new session carries in ``Session.info`` (e.g. the audit seal)."""
        self._factory.configure(info=info)

    def migrate(self) -> None:
        """Apply pending migrations."""
        migrate(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any exception."""
        with self._factory.begin() as session:
            yield session

    def transaction(self, fn: Callable[[Session], T], attempts: int = 5) -> T:
        """Run ``fn`` in one transaction, retried when the database ends it for a conflict.

        Retried: integrity errors (a row another writer inserted first), deadlocks,
        serialisation failures and a busy SQLite; ``fn`` must be safe to run again.
        """
        for attempt in range(attempts):
            try:
                with self.session() as session:
                    return fn(session)
            except (IntegrityError, OperationalError):
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
