"""A local cluster: N node processes on loopback, connected as partners, ready for jobs.

``coalition demo`` (three organisations on one machine) and the multi-node tests use it::

    with start_cluster(tmp / "cluster", ["bank", "telco", "coordinator"],
                       data_dirs=[data]) as cluster:
        cluster.register_dataset("bank", "bank", data / "bank.csv", id_column="phone",
                                 label_column="default")
        cluster.grant("telco", "telco", to="bank", kinds=["psi", "hetero_lr"])
        with cluster["bank"].client() as bank:
            job = bank.submit_job(document)

Each node gets a home under ``root/<name>`` (settings, identity, SQLite database), free API
and peer ports, and runs as ``python -m coalition.demo.cluster HOME`` (output in
``root/<name>/node.log``). Every pair becomes partners through the user API with the
nodes' exported bundles, as operators would do by hand; each handle carries an admin session
token. ``fast_password_hashing`` lowers Argon2's cost — for throwaway clusters only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from coalition.client import NodeClient, NodeUnreachableError, RemoteError
from coalition.core.errors import ConfigError, PeerError
from coalition.node.home import init_node

__all__ = ["Cluster", "NodeHandle", "cluster", "start_cluster"]

_FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 8, "argon2_parallelism": 1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NodeHandle:
    """One running node: where its API is, an admin token, its process."""

    name: str
    home: Path
    url: str
    token: str
    admin_password: str
    process: subprocess.Popen[bytes] = field(repr=False)

    def client(self, timeout: float = 60.0) -> NodeClient:
        """A client of the node's API, authenticated as the admin (close it after use)."""
        return NodeClient(self.url, self.token, timeout=timeout)

    def call(self, method: str, path: str, *, json: Any = None,
             params: Mapping[str, Any] | None = None) -> Any:
        """One API call (``path`` under ``/api/v1``) as the admin; an error response raises
        its typed error (:class:`~coalition.client.RemoteError`)."""
        with self.client() as client:
            return client.request(method, path, json=json, params=params)


@dataclass
class Cluster:
    """Running nodes by name (see the module docstring); a context manager that stops them."""

    root: Path
    nodes: dict[str, NodeHandle]

    def __getitem__(self, name: str) -> NodeHandle:
        return self.nodes[name]

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def register_dataset(self, org: str, name: str, path: Path, *, id_column: str,
                         label_column: str | None = None) -> None:
        """Register a CSV/Parquet file (inside the node's data folders) at ``org``."""
        kind = "parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv"
        with self[org].client() as client:
            client.register_dataset(name, kind, str(path.resolve()), id_column=id_column,
                                    label_column=label_column)

    def grant(self, owner: str, dataset: str, *, to: str, kinds: Iterable[str],
              days: int = 30) -> int:
        """Share ``dataset`` with ``to``, which asks for a grant, which ``owner`` approves."""
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + days * 86400))
        with self[owner].client() as owner_api, self[to].client() as asker:
            owner_api.share_dataset(dataset, to)
            asked = asker.ask_grant(owner, dataset, purpose="local cluster",
                                    component_kinds=list(kinds), valid_until=until)
            grant_id = int(asked["id"])
            if asked.get("status") == "pending":
                owner_api.approve_grant(grant_id)
        return grant_id

    def stop(self, name: str | None = None) -> None:
        """Stop one node (SIGTERM, then SIGKILL) or all of them."""
        for handle in [self.nodes[name]] if name else list(self.nodes.values()):
            proc = handle.process
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def restart(self, name: str, timeout: float = 90.0) -> NodeHandle:
        """Start a stopped node again on the same home and ports."""
        handle = self.nodes[name]
        handle.process = _spawn(handle.home)
        _wait_up(handle, timeout)
        handle.token = _login(handle.url, handle.admin_password)
        return handle


def _spawn(home: Path) -> subprocess.Popen[bytes]:
    log = (home / "node.log").open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "coalition.demo.cluster", str(home)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    finally:
        log.close()


def _wait_up(handle: NodeHandle, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if handle.process.poll() is not None:
            raise PeerError(f"node {handle.name} exited with {handle.process.returncode}; "
                            f"see {handle.home / 'node.log'}")
        try:
            with NodeClient(handle.url, timeout=2) as probe:
                probe.node_info()
        except RemoteError as exc:
            if exc.status == 401:  # the API answers (and wants credentials): it is up
                return
        except NodeUnreachableError:
            pass
        time.sleep(0.2)
    raise PeerError(f"node {handle.name} did not come up in {timeout:.0f} s")


def _login(url: str, password: str) -> str:
    with NodeClient(url, timeout=30) as client:
        return client.login("admin", password)


def start_cluster(root: Path, names: Iterable[str], *, data_dirs: Iterable[Path] = (),
                  fast_password_hashing: bool = False, timeout: float = 120.0,
                  settings: Mapping[str, Any] | None = None) -> Cluster:
    """Create, start and connect the nodes (see the module docstring)."""
    names = list(names)
    if len(set(names)) != len(names) or not names:
        raise ConfigError("node names must be distinct and at least one", names=names)
    extra = {**(_FAST_ARGON2 if fast_password_hashing else {}), **(settings or {})}
    nodes: dict[str, NodeHandle] = {}
    made = Cluster(root, nodes)
    try:
        for name in names:
            api = _free_port()
            home = root / name
            init = init_node(home, name, api_port=api, peer_port=_free_port(),
                             data_dirs=[Path(d).resolve() for d in data_dirs], **extra)
            nodes[name] = NodeHandle(name, home, f"http://127.0.0.1:{api}", "",
                                     init.admin_password, _spawn(home))
        for handle in nodes.values():
            _wait_up(handle, timeout)
            handle.token = _login(handle.url, handle.admin_password)
        bundles = {n: json.dumps(h.call("GET", "/node/identity")) for n, h in nodes.items()}
        for name, handle in nodes.items():
            with handle.client() as client:
                for other, bundle in bundles.items():
                    if other != name:
                        client.import_partner(bundle)
    except BaseException:
        made.stop()
        raise
    return made


@contextmanager
def cluster(root: Path, names: Iterable[str], **kwargs: Any) -> Iterator[Cluster]:
    """:func:`start_cluster` as a context manager."""
    made = start_cluster(root, names, **kwargs)
    try:
        yield made
    finally:
        made.stop()


if __name__ == "__main__":
    import logging

    from coalition.node.server import run_node
    from coalition.node.settings import NodeSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_node(NodeSettings.load(Path(sys.argv[1])))
