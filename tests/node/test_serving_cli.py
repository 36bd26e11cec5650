"""The model and service CLI groups: usage errors and an unreachable node (the happy path
runs against real node processes in test_serving_cluster.py)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from coalition.cli import model, service
from coalition.cli.exit_codes import ExitCode


def _app() -> typer.Typer:
    app = typer.Typer()
    model.register(app)
    service.register(app)
    return app


def test_usage_errors_exit_2() -> None:
    runner = CliRunner()
    r = runner.invoke(_app(), ["service", "deploy", "s", "--token", "t"])
    assert r.exit_code == ExitCode.USAGE and "--model" in r.output
    r = runner.invoke(_app(), ["service", "deploy", "s", "--token", "t", "--model", "m",
                               "--host", "telco"])
    assert r.exit_code == ExitCode.USAGE and "ORG=ONLINE_SOURCE" in r.output
    for features, said in (("{nope", "must be JSON"), ('{"income": 1}', "JSON list")):
        r = runner.invoke(_app(), ["service", "call", "s", "1", "--token", "t",
                                   "--features", features])
        assert r.exit_code == ExitCode.USAGE and said in r.output


def test_unreachable_node_exits_1() -> None:
    r = CliRunner().invoke(_app(), ["model", "list", "--token", "t", "--node", "http://127.0.0.1:1"])
    assert r.exit_code == ExitCode.FAILED and "cannot reach" in r.output
