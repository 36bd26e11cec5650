"""``coalition node`` commands (run through a local typer app, as the lead wires them later)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from nodekit import FAST_ARGON2
from typer.testing import CliRunner

from coalition.cli import node as node_cli
from coalition.cli.exit_codes import ExitCode


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(f"COALITION_NODE_{key.upper()}", str(value))
    app = typer.Typer()
    node_cli.register(app)
    return app


def test_init_prints_password_once_and_refuses_to_overwrite(cli: typer.Typer, tmp_path: Path) -> None:
    home = tmp_path / "bank"
    result = CliRunner().invoke(cli, ["node", "init", str(home), "--name", "bank", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert len(info["admin_password"]) >= 24
    assert info["admin_password"] not in (home / "node.yaml").read_text()
    assert (home / "identity" / "node.key").stat().st_mode & 0o077 == 0
    again = CliRunner().invoke(cli, ["node", "init", str(home), "--name", "bank"])
    assert again.exit_code == ExitCode.INPUT


def test_export_identity_bundle(cli: typer.Typer, tmp_path: Path) -> None:
    home = tmp_path / "telco"
    CliRunner().invoke(cli, ["node", "init", str(home), "--name", "telco", "--peer-port", "9999"])
    result = CliRunner().invoke(cli, ["node", "export-identity", str(home)])
    bundle = json.loads(result.output)
    assert bundle["name"] == "telco" and bundle["address"] == "127.0.0.1:9999"
    assert bundle["certificate_pem"].startswith("-----BEGIN CERTIFICATE-----")
    missing = CliRunner().invoke(cli, ["node", "export-identity", str(tmp_path / "nothing")])
    assert missing.exit_code == ExitCode.INPUT
