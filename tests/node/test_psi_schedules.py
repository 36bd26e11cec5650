"""PSI schedules on one in-process node pair: cron parsing, and one run per due time however
many loops claim it (what keeps a restart overlapping the old process from running twice)."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))

from jobskit import Node, connect, register_dataset, start_node

from coalition.core.errors import InputError
from coalition.node.psi_tasks import schedules, service

ROWS = "id,x\n" + "".join(f"{i},{i}\n" for i in range(1, 10))


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    root = tmp_path_factory.mktemp("psi-schedules")
    bank, telco = start_node(root / "bank", "bank"), start_node(root / "telco", "telco")
    connect(bank, telco)
    connect(telco, bank)
    register_dataset(telco, "usage", ROWS, share_with="bank")
    register_dataset(bank, "mine", ROWS)
    yield bank
    bank.close()
    telco.close()


def test_cron_expressions_are_checked_and_stepped_in_utc() -> None:
    at = dt.datetime(2026, 1, 1, 12, 0, 30, tzinfo=dt.UTC)
    assert schedules.next_time("0 3 * * *", at) == dt.datetime(2026, 1, 2, 3, tzinfo=dt.UTC)
    assert schedules.next_time("* * * * * */20", at) == at + dt.timedelta(seconds=10)
    for bad in ("every day", "61 * * * *", "* * *"):
        with pytest.raises(InputError, match="cron"):
            schedules.next_time(bad, at)


def test_a_due_time_starts_one_run_however_many_loops_claim_it(bank: Node) -> None:
    service.create_task(bank.rt, "user:admin", {
        "name": "nightly", "dataset": "mine", "key_column": "id", "partner": "telco",
        "partner_dataset": "usage", "protocol": "ecdh", "receiver": "both"})
    added = schedules.add_schedule(bank.rt, "user:admin", "nightly", "0 3 * * *")
    due = added["next_run_at"] + dt.timedelta(seconds=1)
    assert schedules.run_due(bank.rt, due - dt.timedelta(hours=1)) == []  # not yet due
    started: list[list[int]] = []
    loops = [threading.Thread(target=lambda: started.append(schedules.run_due(bank.rt, due)))
             for _ in range(4)]
    for loop in loops:
        loop.start()
    for loop in loops:
        loop.join()
    assert sorted(len(s) for s in started) == [0, 0, 0, 1]
    runs = service.list_runs(bank.rt, task="nightly")
    assert [r["started_by"] for r in runs] == [f"schedule:{added['id']}"]
    listed = schedules.list_schedules(bank.rt)
    assert listed[0]["next_run_at"] == added["next_run_at"] + dt.timedelta(days=1)
    assert listed[0]["last_run_id"] == runs[0]["id"]
