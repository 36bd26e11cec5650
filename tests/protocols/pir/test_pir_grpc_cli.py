"""PIR over the real gRPC transport (one process per party) and the ``coalition pir`` CLI."""

import json
import multiprocessing
from functools import partial

import pandas as pd
import pytest
import typer
from pir_support import CLIENT, SERVER
from typer.testing import CliRunner

from coalition.cli.pir import register
from coalition.engine.direct.pir import Endpoint, serve
from coalition.engine.direct.psi import free_port
from coalition.protocols.pir import PirTable, TableSettings, run_client, run_server
from coalition.testing import run_parties


def _server(ctx, *, path):
    return run_server(ctx, PirTable.open(path)).to_dict()


def _client(ctx, *, key, ids, mode, suite="standard"):
    res = run_client(ctx, ids, server_key=key, params={"mode": mode, "decoys": 5, "suite": suite})
    return res.found, res.payloads


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "suite"), [("download", "standard"), ("ot_decoys", "standard"),
                                           ("download", "sm")])
def test_pir_over_grpc_processes(tmp_path, mode, suite):
    table = PirTable(TableSettings("t", 16, bucket_bits=2, suite=suite), tmp_path / "t")
    table.sync([f"id{i}" for i in range(100)], [f"v{i}".encode() for i in range(100)])
    out = run_parties({CLIENT: partial(_client, key=table.verify_key, ids=["id5", "no", "id99"],
                                       mode=mode, suite=suite),
                       SERVER: partial(_server, path=tmp_path / "t")},
                      transport="grpc", timeout=60)
    assert out[CLIENT] == ([True, False, True], [b"v5", None, b"v99"])
    assert out[SERVER]["padded"] == 16


def _app():
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a group needs a sibling for typer's sub-command routing
    return app


@pytest.mark.slow
def test_cli_build_serve_query_and_quota(tmp_path):
    runner = CliRunner()
    rows = pd.DataFrame({"phone": [f"1380000{i:04d}" for i in range(200)],
                         "risk": [f"{i / 200:.3f}" for i in range(200)],
                         "tag": ["vip" if i % 7 == 0 else "normal" for i in range(200)],
                         "secret": ["x"] * 200})
    rows.to_csv(tmp_path / "telco.csv", index=False)
    res = runner.invoke(_app(), ["pir", "certs", str(tmp_path / "certs"), "--client", "bank",
                                 "--server", "telco"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(_app(), ["pir", "build", str(tmp_path / "telco.csv"), "--id-column",
                                 "phone", "--payload", "risk,tag", "--out", str(tmp_path / "tbl"),
                                 "--table-id", "telco-risk", "--bucket-bits", "3", "--workers",
                                 "1", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.strip().splitlines()[-1])["rows"] == 200

    c_port, s_port = free_port(), free_port()
    end = Endpoint(me="telco", peer_name="bank", listen=f"127.0.0.1:{s_port}",
                   peer=f"127.0.0.1:{c_port}", certs=tmp_path / "certs", timeout=60, workers=1)
    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=serve, args=(tmp_path / "tbl", end),
                       kwargs={"sessions": 2, "quota": 20})
    proc.start()
    try:
        pd.DataFrame({"id": ["13800000007", "nobody", "13800000199"]}).to_csv(
            tmp_path / "ids.csv", index=False)
        common = ["--name", "bank", "--server", "telco", "--listen", f"127.0.0.1:{c_port}",
                  "--peer", f"127.0.0.1:{s_port}", "--certs", str(tmp_path / "certs"),
                  "--server-key", str(tmp_path / "tbl" / "verify.key"), "--table-id",
                  "telco-risk", "--workers", "1", "--timeout", "60"]
        res = runner.invoke(_app(), ["pir", "query", str(tmp_path / "ids.csv"), *common,
                                     "--out", str(tmp_path / "answers.parquet"), "--json"])
        assert res.exit_code == 0, res.output
        answers = pd.read_parquet(tmp_path / "answers.parquet")
        assert answers["found"].tolist() == [True, False, True]
        assert answers["tag"][0] == "vip" and answers["risk"][2] == "0.995"
        assert "secret" not in answers.columns

        res = runner.invoke(_app(), ["pir", "query", str(tmp_path / "ids.csv"), *common,
                                     "--out", str(tmp_path / "again.csv")])
        assert res.exit_code == 1
        assert "quota exceeded" in res.output
    finally:
        proc.join(timeout=60)
        if proc.is_alive():
            proc.terminate()
    log = (tmp_path / "tbl" / "batches.jsonl").read_text().splitlines()
    assert len(log) == 1 and json.loads(log[0])["client"] == "guest:bank"
