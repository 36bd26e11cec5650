"""PSI over the real gRPC transport (one process per party) and the ``coalition psi`` CLI."""

import json
from functools import partial

import pytest
import typer
from typer.testing import CliRunner

from coalition.cli.psi import register
from coalition.core import Party
from coalition.protocols.psi import run_guest, run_host
from coalition.testing import run_parties

G, H = Party.guest(), Party.host("h1")


def _role(ctx, *, fn, ids, params):
    return fn(ctx, ids, params)


@pytest.mark.slow
def test_ecdh_over_grpc_processes():
    p = {"batch_rows": 512}
    gids = [f"acct-{i:06d}" for i in range(0, 2000)]
    hids = [f"acct-{i:06d}" for i in range(1500, 3000)]
    out = run_parties({G: partial(_role, fn=run_guest, ids=gids, params=p),
                       H: partial(_role, fn=run_host, ids=hids, params=p)},
                      transport="grpc", timeout=120)
    assert out[G].size == out[H].size == 500
    assert out[G].ids == out[H].ids
    assert out[G].summary.bytes_sent == out[H].summary.bytes_received


@pytest.mark.slow
def test_cli_local_runs_two_processes_and_writes_results(tmp_path):
    (tmp_path / "g.csv").write_text("id\n" + "\n".join(f"C{i}" for i in range(300)) + "\nC1\n")
    (tmp_path / "h.csv").write_text("cust,x\n" + "\n".join(f"c{i},1" for i in range(200, 400)))
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a group needs a sibling for typer's sub-command routing
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["psi", "local", str(tmp_path / "g.csv"), str(tmp_path / "h.csv"),
                                   "--out-dir", str(out), "--workers", "2", "--json"])
    assert res.exit_code == 0, res.output
    summaries = json.loads(res.output.strip().splitlines()[-1])
    assert summaries["guest"]["intersection_size"] == 100
    assert summaries["guest"]["duplicates"] == 1
    lines = (out / "host.csv").read_text().splitlines()
    assert lines[0] == "id,row" and len(lines) == 101
    assert (out / "guest.csv").read_text().splitlines()[1] == "c200,200"


def test_cli_bad_input_exits_with_input_code(tmp_path):
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    (tmp_path / "certs").mkdir()
    res = CliRunner().invoke(app, ["psi", "run", "--role", "guest", "--ids",
                                   str(tmp_path / "missing.csv"), "--listen", "127.0.0.1:1",
                                   "--peer", "127.0.0.1:2", "--certs", str(tmp_path / "certs"),
                                   "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 3
