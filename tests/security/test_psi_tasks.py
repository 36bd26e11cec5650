"""PSI tasks (issue 20) played by a hostile partner and by users without permission.

The partner ``bank`` saves a PSI task against ``telco``'s shared dataset without holding a
grant for ``psi``: telco decides on its own records, so the run waits for a person there and
no party runs, and bank gets no result to preview or download. Users whose role lacks the
permissions cannot save, run, preview or download.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from jobskit import Node, connect, register_dataset, start_node

from coalition.node.auth.permissions import UserRole
from coalition.node.jobs import repository as repo

ROWS = "id,x\n" + "".join(f"{i},{i / 10}\n" for i in range(1, 20))
TASK = {"name": "probe", "dataset": "mine", "key_column": "id", "partner": "telco",
        "partner_dataset": "usage", "protocol": "ecdh"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root = tmp_path_factory.mktemp("psi-attack")
    bank = start_node(root / "bank", "bank")
    telco = start_node(root / "telco", "telco")
    connect(bank, telco)
    connect(telco, bank)
    register_dataset(telco, "usage", ROWS, share_with="bank")
    register_dataset(bank, "mine", ROWS)
    yield bank, telco
    bank.close()
    telco.close()


def _telco_state(telco: Node, job_id: str, deadline_s: float = 20) -> str:
    end = time.monotonic() + deadline_s
    while True:
        try:
            return repo.read(telco.rt, lambda db: repo.get_job(db, job_id).state)
        except Exception:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def test_partner_without_psi_grant_gets_no_run_and_no_result(pair: tuple[Node, Node]) -> None:
    bank, telco = pair
    api, admin = bank.env.client, bank.env.auth()
    assert api.post("/api/v1/psi/tasks", headers=admin, json=TASK).status_code == 201
    r = api.post("/api/v1/psi/tasks/probe/run", headers=admin)
    assert r.status_code == 202, r.text
    run = r.json()
    assert _telco_state(telco, run["job_id"]) == "waiting_approval"
    assert not (telco.home / "jobs" / run["job_id"] / "work").exists()
    record = api.get(f"/api/v1/psi/runs/{run['id']}", headers=admin).json()
    assert record["result_dataset"] is None and record["finalised_at"] is None
    for path in ("preview", "download"):
        r = api.get(f"/api/v1/psi/runs/{run['id']}/{path}", headers=admin)
        assert r.status_code == 409 and "no result" in r.text
    events = api.get("/api/v1/audit/events", headers=admin,
                     params={"kind": "psi.result_downloaded"}).json()
    assert events == []


def test_users_without_permission_cannot_save_run_or_download(pair: tuple[Node, Node]) -> None:
    bank, _ = pair
    api, env = bank.env.client, bank.env
    other = {**TASK, "name": "probe2"}
    for role in (UserRole.OPERATOR, UserRole.AUDITOR):
        r = api.post("/api/v1/psi/tasks", headers=env.auth(role), json=other)
        assert r.status_code == 403, (role, r.text)
        r = api.post("/api/v1/psi/tasks/probe/run", headers=env.auth(role))
        assert r.status_code == 403, (role, r.text)
        for path in ("preview", "download"):
            assert api.get(f"/api/v1/psi/runs/1/{path}", headers=env.auth(role)).status_code == 403
    assert api.get("/api/v1/psi/runs/1/download").status_code == 401
    names = [t["name"] for t in api.get("/api/v1/psi/tasks", headers=env.auth()).json()]
    assert "probe2" not in names


def test_task_fields_are_checked_before_anything_is_proposed(pair: tuple[Node, Node]) -> None:
    bank, _ = pair
    api, admin = bank.env.client, bank.env.auth()
    for bad in ({"name": "../x"}, {"protocol": "plaintext"}, {"receiver": "guest"},
                {"dataset": "nope", "name": "p3"}, {"partner": "stranger", "name": "p4"}):
        r = api.post("/api/v1/psi/tasks", headers=admin, json={**TASK, **bad})
        assert r.status_code in (404, 422), (bad, r.text)
    assert not repo.read(bank.rt, lambda db: [j for j in repo.list_jobs(db)
                                             if j.name in ("psi-p3", "psi-p4")])


def test_kept_oprf_state_is_scoped_by_partner_organisation_not_party_name(
        pair: tuple[Node, Node]) -> None:
    """An initiator who names its party after another partner ("bank") still reaches only the
    folder of its own organisation: the host's kept OPRF key and table for bank stay bank's."""
    from types import SimpleNamespace

    from coalition.core.ids import Party
    from coalition.node.jobs.local import state_dir_for

    _, telco = pair
    host, guest = Party.host("telco"), Party.guest("bank")
    node = SimpleNamespace(parties=[guest, host])
    honest = SimpleNamespace(sites={str(guest): "bank", str(host): "telco"})
    impostor = SimpleNamespace(sites={str(guest): "mallory", str(host): "telco"})
    mine = state_dir_for(telco.rt, honest, node, host)  # type: ignore[arg-type]
    theirs = state_dir_for(telco.rt, impostor, node, host)  # type: ignore[arg-type]
    assert mine != theirs
    assert mine.parent == theirs.parent == telco.rt.settings.home / "state" / "host-telco"
