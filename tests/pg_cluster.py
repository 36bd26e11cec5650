"""A throwaway PostgreSQL cluster for the test suite: ``python tests/pg_cluster.py -- CMD ...``.

Runs ``initdb`` and ``pg_ctl`` (PostgreSQL's own server binaries; ``PG_BIN`` or the newest
``/usr/lib/postgresql/*/bin``) in a fresh temporary folder, listening on a free loopback port
with trust authentication, then runs CMD with ``COALITION_TEST_POSTGRES`` set to the server's
SQLAlchemy URL (``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``) and always stops the
server and removes the folder afterwards, whatever CMD's outcome (its exit status is ours).

The server refuses to run as root, so as root it runs as the unprivileged ``postgres`` user
(created as a system user if the machine has none). Durability is switched off (``fsync``,
``synchronous_commit``): the cluster lives for one test run.

Node tests read ``COALITION_TEST_POSTGRES`` in ``nodekit.make_env`` and give each node a
database of its own (:func:`create_database`), so any set of tables the node's metadata holds
is created by the node's own migrations, as in production.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ENV = "COALITION_TEST_POSTGRES"
_USER = "postgres"


def _bin_dir() -> Path:
    configured = os.environ.get("PG_BIN")
    if configured:
        return Path(configured)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise SystemExit("PostgreSQL server binaries not found (set PG_BIN)")
    return Path(found[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> list[str]:
    """The command prefix that drops root to the unprivileged server user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        _USER], check=True)
    return ["runuser", "-u", _USER, "--"]


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster; yield its SQLAlchemy admin URL; stop and delete it on exit."""
    bindir, prefix = _bin_dir(), _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="coalition-pg-"))
    data = folder / "data"
    if prefix:
        shutil.chown(folder, _USER)
    started = False
    try:
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                        "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL)
        for _ in range(5):  # a free port can be taken between the probe and the bind
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
            result = subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-w",
                                     "-t", "60", "-o", options, "-l", str(folder / "server.log"),
                                     "start"], check=False, stdout=subprocess.DEVNULL)
            if result.returncode == 0:
                started = True
                break
            time.sleep(0.2)
        if not started:
            log = (folder / "server.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"PostgreSQL did not start:\n{log}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                            "stop"], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)


def create_database(admin_url: str, prefix: str = "node") -> str:
    """Create an empty database on the cluster at ``admin_url``; return its URL."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{secrets.token_hex(6)}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def main(argv: list[str]) -> int:
    """Run ``argv`` (after ``--``) with a cluster up; return its exit status."""
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: pg_cluster.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    # A terminated run still stops its server: SIGTERM unwinds through cluster()'s finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with cluster() as url:
        print(f"# PostgreSQL test cluster at {url}", flush=True)
        return subprocess.run(argv, env={**os.environ, ENV: url}, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
