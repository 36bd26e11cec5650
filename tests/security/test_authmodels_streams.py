"""Issue 16 finding 15: live job event streams (server-sent events) attacked by an API user.

A user with ``jobs.read`` opens many event streams at once. Before the fix each stream held a
worker thread for as long as it was open (a sync generator sleeping in the threadpool), so a
few dozen streams starved every other sync route of the node. Now a stream is a coroutine, the
database is polled through a small fixed pool, and each user may hold only a few streams.
The tests run a real HTTP server (uvicorn) in-process so streams really stay open.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from nodekit import NodeEnv, make_env

from coalition.node import create_app
from coalition.node.auth.permissions import UserRole
from coalition.node.jobs import repository as repo
from coalition.node.jobs.tables import JobRow
from coalition.node.settings import NodeSettings

JOB = "0123456789abcdef"
PER_USER = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """The node's API app served by uvicorn on a thread of this process."""

    def __init__(self, env: NodeEnv) -> None:
        self.port = _free_port()
        config = uvicorn.Config(create_app(env.rt), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        with httpx.Client(timeout=1) as c:  # wait until it answers (bounded)
            for _ in range(200):
                try:
                    c.get(f"{self.url}/openapi.json")
                    return
                except httpx.TransportError:
                    threading.Event().wait(0.05)
        raise RuntimeError("server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[NodeEnv, Server]]:
    # (Only settings this version knows: on the old code the attacks run uncapped and fail.)
    caps = {"event_streams_per_user": PER_USER, "event_streams_total": 50}
    env = make_env(tmp_path / "bank",
                   **{k: v for k, v in caps.items() if k in NodeSettings.model_fields})
    server = Server(env)
    with env.rt.db.session() as db:  # a job that stays running until the test ends it
        repo.create_job(db, job_id=JOB, name="long", initiator="bank", dag={"tasks": {}},
                        sites={}, selection={}, timeout_s=60, created_by="user:admin",
                        rerun_of=None, task_names=[], orgs={})
        db.get_one(JobRow, JOB).state = "running"
    yield env, server
    server.stop()
    env.close()


class Stream:
    """An open event stream, read chunk by chunk (leaving it open between reads: breaking out
    of httpx's iterator would close the connection)."""

    def __init__(self, stack: ExitStack, client: httpx.Client) -> None:
        self.response = stack.enter_context(client.stream("GET", f"/api/v1/jobs/{JOB}/events"))
        self.status_code = self.response.status_code
        self._chunks = self.response.iter_text()

    def next_event(self) -> str:
        for chunk in self._chunks:
            if chunk:
                return chunk
        return ""

    def rest(self) -> str:
        return "".join(self._chunks)


def _open(stack: ExitStack, client: httpx.Client) -> Stream:
    return Stream(stack, client)


def _first_event(r: Stream) -> str:
    return r.next_event()


def test_stream_cap_per_user(node: tuple[NodeEnv, Server]) -> None:
    env, server = node
    scientist = {"Authorization": f"Bearer {env.tokens[UserRole.DATA_SCIENTIST]}"}
    with httpx.Client(base_url=server.url, headers=scientist, timeout=30) as client, \
            ExitStack() as stack:
        streams = [_open(stack, client) for _ in range(PER_USER)]
        assert [r.status_code for r in streams] == [200] * PER_USER
        assert all("event: job" in _first_event(r) for r in streams)
        extra = _open(stack, client)  # headers only: an uncapped stream would never end
        assert extra.status_code == 429
        extra.response.read()
        assert extra.response.json()["code"] == "auth.rate_limited"
        # Another user is not affected by this user's streams.
        with httpx.Client(base_url=server.url, headers=env.auth(), timeout=30) as admin, \
                ExitStack() as other:
            r = _open(other, admin)
            assert r.status_code == 200
            assert "event: job" in _first_event(r)


def test_streams_hold_no_thread_each_and_end_with_the_job(
        node: tuple[NodeEnv, Server]) -> None:
    env, server = node
    many = 12
    if hasattr(env.rt, "event_streams"):
        env.rt.event_streams = type(env.rt.event_streams)(many, 50)
    with httpx.Client(base_url=server.url, headers=env.auth(), timeout=30) as client, \
            ExitStack() as stack:
        first = _open(stack, client)
        assert "event: job" in _first_event(first)
        baseline = threading.active_count()
        streams = [_open(stack, client) for _ in range(many - 1)]
        for r in streams:  # every stream is live and has polled the database
            assert r.status_code == 200
            assert "event: job" in _first_event(r)
        grown = threading.active_count() - baseline
        assert grown <= 3, f"{grown} more threads for {many - 1} more streams"
        # The job ends: every stream delivers the final state and the end event, then closes.
        with env.rt.db.session() as db:
            db.get_one(JobRow, JOB).state = "succeeded"
        for r in [first, *streams]:
            rest = r.rest()
            assert '"state":"succeeded"' in rest
            assert rest.endswith("event: end\ndata: {}\n\n")


def test_a_closed_stream_gives_its_slot_back(node: tuple[NodeEnv, Server]) -> None:
    env, server = node
    scientist = {"Authorization": f"Bearer {env.tokens[UserRole.DATA_SCIENTIST]}"}
    with httpx.Client(base_url=server.url, headers=scientist, timeout=30) as client:
        with ExitStack() as stack:
            streams = [_open(stack, client) for _ in range(PER_USER)]
            assert all("event: job" in _first_event(r) for r in streams)
        # All closed by the client: the server notices within a poll and frees the slots.
        codes: list[int] = []
        for _ in range(100):
            with client.stream("GET", f"/api/v1/jobs/{JOB}/events") as r:
                codes.append(r.status_code)
                if r.status_code == 200:
                    break
            threading.Event().wait(0.1)
        assert codes[-1] == 200
