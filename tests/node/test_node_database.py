"""The node database on the backend under test (SQLite, or PostgreSQL in make test's second pass).

Concurrent writers: each thread opens its own :class:`Database` on the same node database, as
separate node processes (or a CLI command next to a running node) would, so nothing but the
database itself (``serialise``: an advisory lock on PostgreSQL, the write lock on SQLite)
keeps them in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nodekit import FAST_ARGON2, POSTGRES, database_url

from coalition.engine.states import JobState
from coalition.node import init_node
from coalition.node.at_rest import HOME_INFO
from coalition.node.audit import trail
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.audit.start import open_seal
from coalition.node.db import Database, serialise
from coalition.node.jobs import repository as repo
from coalition.node.settings import NodeSettings

THREADS = 6
EACH = 8


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> NodeSettings:
    home = tmp_path_factory.mktemp("db") / "bank"
    return init_node(home, "bank", peer_port=0, database_url=database_url(),
                     **FAST_ARGON2).settings


def _open(settings: NodeSettings) -> Database:
    db = Database(settings.db_url)
    db.set_session_info(**{trail.SEAL_INFO: open_seal(settings), HOME_INFO: settings.home})
    return db


@pytest.fixture
def databases(settings: NodeSettings) -> Iterator[list[Database]]:
    dbs = [_open(settings) for _ in range(THREADS)]
    yield dbs
    for db in dbs:
        db.dispose()


def _in_threads(dbs: list[Database], work: Callable[[int, Database], Any]) -> list[Any]:
    results: list[Any] = [None] * len(dbs)
    errors: list[BaseException] = []
    start = threading.Barrier(len(dbs))

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i, dbs[i])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(dbs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


def test_backend_is_the_one_under_test(settings: NodeSettings) -> None:
    db = Database(settings.db_url)
    assert db.engine.dialect.name == ("postgresql" if POSTGRES else "sqlite")
    db.dispose()


def test_concurrent_audit_writers_keep_one_chain(databases: list[Database]) -> None:
    with databases[0].session() as s:
        before = trail.verify(s).checked

    def write(i: int, db: Database) -> None:
        for n in range(EACH):  # plain transactions, no retry: the lock alone must order them
            with db.session() as s:
                emit(s, Event(EventKind.PARTNER_HEALTH_CHECKED, f"user:w{i}", f"n:{n}"))

    _in_threads(databases, write)
    with databases[0].session() as s:
        result = trail.verify(s)
        seqs = [e.seq for e in trail.iter_events(s)]
    assert result.ok, result.reason
    assert result.checked == before + THREADS * EACH
    assert seqs == list(range(1, len(seqs) + 1))


def test_concurrent_job_moves_happen_once(databases: list[Database]) -> None:
    with databases[0].session() as s:
        repo.create_job(s, job_id="j-race", name="race", initiator="bank", dag={}, sites={},
                        selection={}, timeout_s=60.0, created_by="admin", rerun_of=None,
                        task_names=["a"], orgs={"bank": ["guest"]})

    def move(_i: int, db: Database) -> bool:
        def fn(s: Any) -> bool:
            serialise(s, "jobs")
            return repo.move_job(s, repo.get_job(s, "j-race"), JobState.RUNNING, "", "system")

        return db.transaction(fn)

    moved = _in_threads(databases, move)
    assert sorted(moved) == [False] * (THREADS - 1) + [True]
    with databases[0].session() as s:
        changes = [e for e in trail.iter_events(s)
                   if e.kind == EventKind.JOB_STATE_CHANGED and e.subject == "job:j-race"]
        assert repo.get_job(s, "j-race").state == JobState.RUNNING.value
        assert trail.verify(s).ok
    assert len(changes) == 1


def _job(s: Any, job_id: str) -> None:
    repo.create_job(s, job_id=job_id, name="dup", initiator="bank", dag={}, sites={},
                    selection={}, timeout_s=1.0, created_by="admin", rerun_of=None,
                    task_names=[], orgs={})


def test_transaction_retries_a_conflict(settings: NodeSettings) -> None:
    db = _open(settings)
    with db.session() as s:
        _job(s, "j-dup")
    calls: list[int] = []

    def fn(s: Any) -> int:
        calls.append(1)
        if len(calls) == 1:  # the first attempt collides with an existing primary key
            _job(s, "j-dup")
        return len(calls)

    try:
        assert db.transaction(fn) == 2
    finally:
        db.dispose()
