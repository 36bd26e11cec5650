"""Cron schedules that rebuild PIR services under a new key epoch, run by one loop per runtime.

A service published with ``cron`` stores its next due time; the loop (:data:`SCHEDULER`)
claims a due service by compare-and-set on that time, so each due time rebuilds once however
many loops look, and a restarted node resumes from the stored time (a due time missed while it
was down rebuilds once). A scheduled rebuild rotates the key: a new epoch, every partner's
quota counted afresh, every client copy of the table stale.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coalition.node.db.types import utcnow
from coalition.node.jobs import repository as repo
from coalition.node.pir_services import services
from coalition.node.pir_services.tables import PirServiceRow
from coalition.node.polling import PollingLoop, loop_slot
from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot

__all__ = ["SCHEDULER", "rebuild_due"]

_log = logging.getLogger(__name__)
POLL_S = 1.0


def _claim(db: Session, now: dt.datetime) -> list[str]:
    """Move every due service's due time on (compare-and-set); return those this call won."""
    won: list[str] = []
    due = db.scalars(select(PirServiceRow).where(PirServiceRow.cron.is_not(None),
                                                 PirServiceRow.next_rebuild_at <= now)).all()
    for row in due:
        following = services.next_time(str(row.cron), now)
        claimed = db.execute(update(PirServiceRow).where(
            PirServiceRow.id == row.id, PirServiceRow.next_rebuild_at == row.next_rebuild_at,
        ).values(next_rebuild_at=following)).rowcount  # type: ignore[attr-defined]
        if claimed == 1:
            won.append(row.id)
    return won


def rebuild_due(rt: NodeRuntime, now: dt.datetime | None = None) -> list[str]:
    """Rebuild (new epoch) every service due at ``now``; return their ids."""
    done: list[str] = []
    for service_id in repo.write(rt, lambda db: _claim(db, now or utcnow())):
        try:
            services.rebuild(rt, "schedule", service_id, rotate=True)
        except Exception:  # one failing service must not stop the others' schedules
            _log.exception("scheduled rebuild of PIR service %s failed", service_id)
            continue
        done.append(service_id)
    return done


# A daemon loop calling rebuild_due every POLL_S seconds (coalition.node.polling); closing
# waits up to a minute for a rebuild in progress.
SCHEDULER: Slot[PollingLoop] = loop_slot("pir_services.schedules", rebuild_due,
                                         name="pir-rebuilds", poll_s=POLL_S, join_s=60)
