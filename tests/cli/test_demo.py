import json

from typer.testing import CliRunner

from coalition.cli.app import app


def test_demo_runs_the_whole_pipeline_and_reports_json():
    res = CliRunner().invoke(app, ["demo", "--json", "--trees", "1", "--customers", "400"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["intersection"] == summary["true_overlap"] == 300
    for name, metrics in summary["models"].items():
        assert 0.55 < metrics["auc"] <= 1.0, name
    assert set(summary["timings_s"]) == {"psi", "ss-lr", "secureboost"}


def test_version_json():
    res = CliRunner().invoke(app, ["version", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["coalition"]
