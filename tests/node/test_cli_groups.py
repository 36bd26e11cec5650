"""The ``user``, ``partner``, ``dataset`` and ``grant`` command groups, through typer's runner
against real node apps in-process (two organisations: a bank and a telco)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from nodekit import PASSWORD, NodeEnv, app_client, make_env
from typer.testing import CliRunner

from coalition.cli import common
from coalition.cli.app import app
from coalition.cli.exit_codes import ExitCode
from coalition.client import NodeClient
from coalition.node.auth.permissions import UserRole
from coalition.node.partners.directory import get_partner
from coalition.node.partners.grants import request_grant


@dataclass
class Orgs:
    bank: NodeEnv
    telco: NodeEnv
    data: Path

    def cli(self, org: str, *args: str, token: str | None = None) -> Result:
        env = self.bank if org == "bank" else self.telco
        cred = env.tokens[next(iter(env.tokens))] if token is None else token
        return CliRunner().invoke(app, list(args), env={
            "COALITION_NODE_URL": f"http://{org}", "COALITION_TOKEN": cred, "COLUMNS": "250"})

    def json(self, org: str, *args: str) -> Any:
        result = self.cli(org, *args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def orgs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Orgs]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "subscribers.csv").write_text(
        "phone,tenure\n" + "".join(f"{i},{i % 7}\n" for i in range(40)))
    made = Orgs(make_env(tmp_path / "bank", "bank"),
                make_env(tmp_path / "telco", "telco", data_dirs=[data]), data)
    by_url = {"http://bank": made.bank, "http://telco": made.telco}

    def connect(node: str, token: str) -> NodeClient:
        return app_client(by_url[node].rt, token)

    monkeypatch.setattr(common, "connect", connect)
    yield made
    made.bank.close()
    made.telco.close()


def test_users_and_api_keys(orgs: Orgs) -> None:
    listed = orgs.cli("bank", "user", "list")
    assert listed.exit_code == 0 and "admin" in listed.stdout and "data_scientist" in listed.stdout
    made = orgs.json("bank", "user", "create", "carol", "--role", "operator",
                     "--password", PASSWORD)
    assert made == [made[0]] and made[0]["role"] == "operator"
    # A person's password is asked for (hidden) when not given.
    asked = CliRunner().invoke(app, ["user", "create", "dave", "--role", "operator"],
                               input=f"{PASSWORD}\n{PASSWORD}\n",
                               env={"COALITION_NODE_URL": "http://bank",
                                    "COALITION_TOKEN": orgs.bank.tokens[next(iter(
                                        orgs.bank.tokens))]})
    assert asked.exit_code == 0 and PASSWORD not in asked.stdout
    assert orgs.json("bank", "user", "update", "carol", "--disable")[0]["disabled"] is True

    assert orgs.cli("bank", "user", "create", "bot", "--role", "operator", "--api").exit_code == 0
    key = orgs.json("bank", "user", "key", "create", "bot", "--scope", "jobs.read")
    assert key["key"].startswith("ck_")
    # The key works as the CLI's credential, with exactly its scope.
    assert orgs.cli("bank", "partner", "list", token=key["key"]).exit_code == ExitCode.DENIED
    assert [k["key_id"] for k in orgs.json("bank", "user", "key", "list")] == [key["key_id"]]
    assert orgs.cli("bank", "user", "key", "revoke", key["key_id"]).exit_code == 0


def test_errors_exit_by_the_one_mapping(orgs: Orgs) -> None:
    missing = orgs.cli("bank", "dataset", "show", "nope")
    assert missing.exit_code == ExitCode.INPUT and "(not_found)" in missing.output
    anonymous = orgs.cli("bank", "user", "list", token="")
    assert anonymous.exit_code == ExitCode.DENIED and "auth.unauthenticated" in anonymous.output
    bad_terms = orgs.cli("telco", "grant", "approve", "1", "--terms", "[1]")
    assert bad_terms.exit_code == ExitCode.USAGE and "JSON object" in bad_terms.output


def test_partners_datasets_and_grants(orgs: Orgs, tmp_path: Path) -> None:
    for me, other in (("bank", orgs.telco), ("telco", orgs.bank)):
        with app_client(other.rt, other.tokens[next(iter(other.tokens))]) as api:
            bundle = tmp_path / f"{me}-imports.json"
            bundle.write_text(json.dumps(api.identity()))
        imported = orgs.cli(me, "partner", "import", str(bundle), "--address", "127.0.0.1:9")
        assert imported.exit_code == 0, imported.output
    assert [p["name"] for p in orgs.json("bank", "partner", "list")] == ["telco"]

    csv = orgs.data / "subscribers.csv"
    registered = orgs.json("telco", "dataset", "register", "subscribers", str(csv),
                           "--id-column", "phone")
    assert registered[0]["kind"] == "csv" and registered[0]["row_count"] == 40
    assert orgs.cli("telco", "dataset", "share", "subscribers", "bank").exit_code == 0
    table = orgs.cli("telco", "dataset", "list")
    assert "subscribers" in table.stdout and "bank" in table.stdout
    assert len(orgs.json("telco", "dataset", "preview", "subscribers", "--limit", "3")["rows"]) == 3

    # The bank's requests arrive at the telco over the peer API; here they are recorded there
    # directly, as the peer handler does.
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=5)
    with orgs.telco.rt.db.session() as db:
        bank = get_partner(db, "bank")
        first = request_grant(db, bank, "subscribers", purpose="scoring",
                              component_kinds=["psi", "hetero_lr"], valid_until=until,
                              terms={"allow_guest_dealer": True}).id
        second = request_grant(db, bank, "subscribers", purpose="marketing",
                               component_kinds=["psi"], valid_until=until).id
    pending = orgs.json("telco", "grant", "pending")
    assert sorted(g["id"] for g in pending) == sorted([first, second])
    shown = orgs.cli("telco", "grant", "list")
    assert "scoring" in shown.stdout and "allow_guest_dealer" in shown.stdout

    # Approving with narrower terms than asked; the others are rejected, then revoked.
    approved = orgs.json("telco", "grant", "approve", str(first), "--terms",
                         '{"min_batch_size": 64}')
    assert approved[0]["status"] == "approved"
    assert approved[0]["terms"] == {"min_batch_size": 64}
    assert orgs.json("telco", "grant", "reject", str(second), "--reason",
                     "not for marketing")[0]["status"] == "rejected"
    assert orgs.json("telco", "grant", "revoke", str(first), "--reason",
                     "project over")[0]["status"] == "revoked"
    assert [g["status"] for g in orgs.json("telco", "grant", "list", "--status", "rejected")
            ] == ["rejected"]

    policy = orgs.json("telco", "grant", "policy", "add", "subscribers", "--kind", "psi",
                       "--max-days", "10", "--partner", "bank")
    assert policy[0]["partner"] == "bank" and policy[0]["component_kinds"] == ["psi"]
    assert [p["id"] for p in orgs.json("telco", "grant", "policy", "list")] == [policy[0]["id"]]
    assert orgs.cli("telco", "grant", "policy", "remove", str(policy[0]["id"])).exit_code == 0
    assert orgs.json("telco", "grant", "policy", "list") == []

    assert orgs.cli("telco", "dataset", "unshare", "subscribers", "bank").exit_code == 0
    assert orgs.cli("bank", "partner", "remove", "telco").exit_code == 0
    assert orgs.json("bank", "partner", "list") == []


def test_shell_completion_is_offered() -> None:
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert "--install-completion" in shown.output and "--show-completion" in shown.output
    for group in ("user", "partner", "dataset", "grant"):
        assert group in shown.output


def test_job_model_and_service_groups_use_the_same_client(orgs: Orgs) -> None:
    assert orgs.json("bank", "job", "list") == []
    assert orgs.json("bank", "model", "list") == []
    assert orgs.json("bank", "service", "list") == []
    unknown = orgs.cli("bank", "job", "status", "0123456789abcdef")
    assert unknown.exit_code == ExitCode.INPUT and "(not_found)" in unknown.output
    # An auditor may read jobs but not submit them: the node's 403 exits 4.
    auditor = orgs.bank.tokens[UserRole.AUDITOR]
    assert orgs.cli("bank", "job", "list", token=auditor).exit_code == 0
    denied = orgs.cli("bank", "model", "delete", "credit", "1", token=auditor)
    assert denied.exit_code == ExitCode.DENIED and "auth.denied" in denied.output


def test_login_whoami_logout(orgs: Orgs) -> None:
    env = {"COALITION_NODE_URL": "http://bank"}
    logged = CliRunner().invoke(app, ["login", "--username", "admin"],
                                input=f"{orgs.bank.admin_password}\n", env=env)
    assert logged.exit_code == 0, logged.output
    token = logged.stdout.strip()
    assert token.startswith("cs_") and "\n" not in token  # stdout is the token alone
    who = orgs.cli("bank", "whoami", "--json", token=token)
    assert json.loads(who.stdout)["username"] == "admin"
    assert orgs.cli("bank", "logout", token=token).exit_code == 0
    assert orgs.cli("bank", "whoami", token=token).exit_code == ExitCode.DENIED
    wrong = CliRunner().invoke(app, ["login", "--username", "admin", "--password", "nope"],
                               env=env)
    assert wrong.exit_code == ExitCode.DENIED


def test_auditor_accounts_need_a_second_person(orgs: Orgs) -> None:
    asked = orgs.json("bank", "user", "auditor-request", "create", "create", "ivy",
                      "--password", PASSWORD)
    request_id = str(asked[0]["id"])
    assert asked[0]["status"] == "pending"
    own = orgs.cli("bank", "user", "auditor-request", "approve", request_id)
    assert own.exit_code == ExitCode.DENIED and "second administrator" in own.output
    auditor = orgs.bank.tokens[UserRole.AUDITOR]
    approved = orgs.cli("bank", "user", "auditor-request", "approve", request_id, "--json",
                        token=auditor)
    assert approved.exit_code == 0 and json.loads(approved.stdout)[0]["status"] == "approved"
    assert orgs.json("bank", "user", "show", "ivy")[0]["role"] == "auditor"
    # A decided request cannot be decided again (the node's details name its status).
    again = orgs.cli("bank", "user", "auditor-request", "reject", request_id, token=auditor)
    assert again.exit_code == ExitCode.INPUT and "already decided" in again.output
