"""A node's live job machinery: background threads, worker processes, task reports.

One :class:`JobManager` per :class:`NodeRuntime`, held on the runtime (slot :data:`MANAGER`,
:func:`manager_for`), created on first use — when the app or the peer endpoint starts — and
closed with the runtime. Creating it runs :func:`recover`: a node that
restarts finds the jobs it was running, fails their running tasks with the cause ("node
restarted") and tells the other organisations, so the job fails everywhere and can be rerun.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from coalition.engine.dag import parse_dag
from coalition.engine.states import JobState, TaskState
from coalition.engine.validate import JobGraph, validate_dag
from coalition.node.jobs import repository as repo
from coalition.node.jobs.notify import announce_restart
from coalition.node.jobs.tables import JobRow
from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot

__all__ = ["MANAGER", "JobManager", "TaskReport", "manager_for"]

log = logging.getLogger("coalition.node.jobs")
_ACTIVE = (JobState.PENDING.value, JobState.RUNNING.value)


@dataclass(frozen=True)
class TaskReport:
    """One party's outcome of one task, as its node reported it to the initiator."""

    party: str
    ok: bool
    error: str = ""
    code: str = ""
    seconds: float = 0.0


class JobManager:
    """Threads, worker processes and pending task reports of one node (thread-safe)."""

    def __init__(self, rt: NodeRuntime) -> None:
        self.rt = rt
        self._cond = threading.Condition()
        self._reports: dict[tuple[str, str], dict[str, TaskReport]] = {}
        self._procs: dict[tuple[str, str, str], subprocess.Popen[str]] = {}
        self._stopped: set[str] = set()
        self._graphs: dict[str, JobGraph] = {}
        self._launched: set[tuple[str, str, str]] = set()
        self._threads: set[threading.Thread] = set()
        self._closed = False

    def spawn(self, name: str, fn: Callable[..., Any], *args: Any) -> threading.Thread:
        """Run ``fn(*args)`` in a daemon thread; an escaping error is logged, not lost."""
        def body() -> None:
            try:
                fn(*args)
            except Exception:
                log.exception("job thread %s failed", name)
            finally:
                with self._cond:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=body, name=f"job-{name}", daemon=True)
        with self._cond:
            self._threads.add(thread)
        thread.start()
        return thread

    def graph(self, job: JobRow) -> JobGraph:
        """The validated DAG of ``job`` (validated once per job and process)."""
        with self._cond:
            cached = self._graphs.get(job.id)
        if cached is None:
            cached = validate_dag(parse_dag(job.dag))
            with self._cond:
                self._graphs[job.id] = cached
        return cached

    # -- task reports (initiator) ------------------------------------------------------------

    def report(self, job_id: str, task: str, report: TaskReport) -> None:
        """File a party's outcome and wake the scheduler waiting on the task."""
        with self._cond:
            self._reports.setdefault((job_id, task), {})[report.party] = report
            self._cond.notify_all()

    def wait_reports(self, job_id: str, task: str, parties: set[str], timeout: float,
                     settle: float = 2.0) -> dict[str, TaskReport]:
        """Reports of ``parties`` for the task: all of them, or — once one failed — whatever
        arrived within ``settle`` seconds more (so the root cause can be told from the peer
        errors it provoked). Returns early if the job was stopped; may be partial on timeout."""
        end = time.monotonic() + timeout
        failed_at: float | None = None
        with self._cond:
            while True:
                got = dict(self._reports.get((job_id, task), {}))
                if set(got) >= parties or job_id in self._stopped or self._closed:
                    return got
                now = time.monotonic()
                if failed_at is None and any(not r.ok for r in got.values()):
                    failed_at = now
                if failed_at is not None and now - failed_at >= settle:
                    return got
                if now >= end:
                    return got
                self._cond.wait(0.2)

    # -- workers (every node) ----------------------------------------------------------------

    def claim(self, job_id: str, task: str, party: str) -> bool:
        """``True`` the first time a worker of (job, task, party) is asked for, ``False``
        after: a task runs once per job, so a repeated ``TaskRun`` never starts a second
        worker (a rerun is a new job)."""
        with self._cond:
            if (job_id, task, party) in self._launched:
                return False
            self._launched.add((job_id, task, party))
            return True

    def track(self, job_id: str, task: str, party: str, proc: subprocess.Popen[str]) -> bool:
        """Remember a started worker; ``False`` (and the worker killed) if the job stopped."""
        with self._cond:
            if job_id in self._stopped or self._closed:
                proc.kill()
                return False
            self._procs[(job_id, task, party)] = proc
            return True

    def untrack(self, job_id: str, task: str, party: str) -> None:
        """Forget a finished worker."""
        with self._cond:
            self._procs.pop((job_id, task, party), None)

    def stop(self, job_id: str) -> int:
        """Mark the job stopped here and kill its workers; returns how many were killed."""
        with self._cond:
            self._stopped.add(job_id)
            procs = [p for k, p in self._procs.items() if k[0] == job_id]
            self._cond.notify_all()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        return len(procs)

    def stopped(self, job_id: str) -> bool:
        """Whether the job was cancelled or failed while this process ran it."""
        with self._cond:
            return job_id in self._stopped

    def close(self, grace_s: float = 10.0) -> None:
        """The node stops: kill every worker it started (their reports could reach no one;
        the node that starts next fails their jobs, see :func:`recover`), reap them, and give
        the job threads up to ``grace_s`` to notice and finish; a thread still blocked on a
        partner after that is a daemon and ends with the process."""
        with self._cond:
            self._closed = True
            self._stopped.update(k[0] for k in self._procs)
            procs = list(self._procs.values())
            threads = list(self._threads)
            self._cond.notify_all()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        deadline = time.monotonic() + grace_s
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def kill_worker(self, job_id: str, task: str, party: str) -> bool:
        """Kill one worker (tests and operators simulating a crash)."""
        with self._cond:
            proc = self._procs.get((job_id, task, party))
        if proc is None or proc.poll() is not None:
            return False
        proc.kill()
        return True


def recover(rt: NodeRuntime, manager: JobManager) -> None:
    """Fail the jobs this node was running when it stopped; tell the others in the background."""
    cause = f"node {rt.name} restarted while the job ran"

    def fail_all(db: Any) -> list[tuple[str, str, list[str]]]:
        out = []
        for job in db.scalars(select(JobRow).where(JobRow.state.in_(_ACTIVE))):
            running = [t.task for t in repo.tasks(db, job.id) if t.state == TaskState.RUNNING]
            for t in repo.tasks(db, job.id):
                target = TaskState.FAILED if t.state == TaskState.RUNNING else TaskState.CANCELLED
                repo.move_task(db, job.id, t.task, target, cause, "system")
            repo.move_job(db, job, JobState.FAILED, cause, "system")
            repo.add_log(db, job.id, cause, level="error")
            out.append((job.id, job.initiator, running))
        return out

    failed = repo.write(rt, fail_all)
    if failed:
        manager.spawn("recover", announce_restart, rt, failed)


MANAGER: Slot[JobManager] = Slot("jobs.manager", JobManager, close=JobManager.close,
                                 start=recover)


def manager_for(rt: NodeRuntime) -> JobManager:
    """The runtime's manager (``rt.state(MANAGER)``), created (and :func:`recover` run) on
    first use, closed with the runtime."""
    return rt.state(MANAGER)
