"""What a node leaves on its disk: private modes, sealed credentials, no stale job inputs.

* Modes: the node sets its process umask to 0o077 when it opens its home, so everything it
  writes afterwards (database, journals, keys, exports, job folders, model parts) is readable by
  its own user only; the home and its identity folder are 0700 and the files the node owns at
  the top of its home are tightened to 0600 on every start (homes created before this rule).
* SQL dataset passwords: sealed (:mod:`coalition.node.data.credentials`); rows written before that
  are sealed at start, and a SQLite database is vacuumed once so the old text leaves its pages.
* Job inputs: the SQL tables a job exported to ``home/jobs/<job>/inputs`` are deleted when the
  job reaches a terminal state (after that transaction commits).

The umask is process-wide: a process that embeds a node (tests, notebooks) writes private files
from then on, which is the point.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from coalition.core.errors import CryptoError
from coalition.node.data import credentials
from coalition.node.data.tables import Dataset
from coalition.node.db.engine import Database
from coalition.node.settings import SETTINGS_FILE, NodeSettings

__all__ = ["HOME_INFO", "NODE_UMASK", "remove_job_inputs", "remove_inputs_after_commit",
           "secure_home", "seal_stored_credentials"]

NODE_UMASK = 0o077
HOME_INFO = "node_home"  # key of the node home in ``Session.info``
log = logging.getLogger("coalition.node")


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.exists() and not path.is_symlink():
            path.chmod(mode)
    except OSError as exc:  # e.g. a file owned by another user: report, do not stop the node
        log.warning("cannot set mode %o on %s: %s", mode, path, exc)


def secure_home(settings: NodeSettings) -> None:
    """Set the umask and tighten the modes of the home, its identity and its own files."""
    os.umask(NODE_UMASK)
    home = settings.home
    for folder in (home, settings.identity_dir, home / "jobs", home / "models", home / "artifacts"):
        _chmod(folder, 0o700)
    files = [home / SETTINGS_FILE, settings.audit_key_path, settings.audit_checkpoint_path,
             settings.credentials_key_path]
    files += [p for p in settings.identity_dir.glob("*") if p.is_file()]
    files += [p for p in home.glob("node.db*") if p.is_file()]
    for path in files:
        _chmod(path, 0o600)


def seal_stored_credentials(db: Database, settings: NodeSettings) -> int:
    """Register the credentials key; seal passwords stored in clear by older versions, and
    reseal those sealed under the other crypto suite (after a suite switch) with this node's
    suite's cipher. A password sealed under a key this node does not hold is left as it is
    (connecting with it fails with the same typed error as before)."""
    key = credentials.load_or_create_key(settings.credentials_key_path)
    credentials.register_key(key)
    changed = 0
    with db.session() as session:
        for row in session.scalars(select(Dataset).where(Dataset.kind == "sql")).all():
            if credentials.is_sealed(row.location, settings.crypto_suite):
                continue
            try:
                row.location = credentials.seal_url(key, row.location, settings.crypto_suite)
            except CryptoError:
                continue
            changed += 1
    if changed and db.engine.dialect.name == "sqlite":
        with db.engine.connect() as conn:  # rewrite the file so the cleartext leaves its pages
            conn.execute(sa.text("VACUUM"))
    return changed


def remove_job_inputs(home: Path, job_id: str) -> bool:
    """Delete ``home/jobs/<job_id>/inputs`` if it is there; never anything outside the home."""
    jobs = (home / "jobs").resolve()
    target = (jobs / job_id / "inputs").resolve()
    if not target.is_relative_to(jobs) or target.parent == jobs or not target.is_dir():
        return False
    shutil.rmtree(target, ignore_errors=True)
    return True


def remove_inputs_after_commit(session: Session, job_id: str) -> None:
    """Remove the job's exported inputs once the caller's transaction commits."""
    home = session.info.get(HOME_INFO)
    if not isinstance(home, Path):
        return

    def _remove(_session: Session) -> None:
        remove_job_inputs(home, job_id)

    event.listen(session, "after_commit", _remove, once=True)
