"""Industry templates (issue 26): the catalog, ``init``, the generators' dependence, and each
template run standalone reaching its documented floor."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from typer.testing import CliRunner

from coalition.cli.app import app
from coalition.demo.templates import TEMPLATES, get_template
from coalition.demo.templates.generators import (
    make_credit_raw,
    make_marketing_data,
    make_verification_data,
)
from coalition.engine.dag import load_dag
from coalition.engine.validate import validate_dag


def test_list_and_describe_name_every_template_and_its_floor():
    res = CliRunner().invoke(app, ["template", "list", "--json"])
    assert res.exit_code == 0, res.output
    listed = {t["name"]: t for t in json.loads(res.stdout)}
    assert set(listed) == set(TEMPLATES)
    for name, template in TEMPLATES.items():
        assert listed[name]["headline"]["floor"] == template.headline.floor
        res = CliRunner().invoke(app, ["template", "describe", name, "--json"])
        assert res.exit_code == 0, res.output
        described = json.loads(res.stdout)
        assert described["tasks"] == list(described["dag"]["tasks"])
        assert described["who_learns_what"]


def test_an_unknown_template_is_a_typed_error_naming_the_known_ones():
    res = CliRunner().invoke(app, ["template", "describe", "no_such"])
    assert res.exit_code != 0
    assert "joint_marketing" in res.output


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_init_writes_a_valid_dag_its_data_and_a_readme(tmp_path, name):
    res = CliRunner().invoke(app, ["template", "init", name, str(tmp_path / name),
                                   "--customers", "400"])
    assert res.exit_code == 0, res.output
    folder = tmp_path / name
    graph = validate_dag(load_dag(folder / "dag.yaml"))
    for org in get_template(name).parties:
        assert any(p.name == org for p in graph.parties)
    for party in graph.parties:  # every data party's table; an arbiter holds none
        assert (folder / "data" / f"{party.name}.csv").is_file() == (party.role.value != "arbiter")
    assert get_template(name).question in (folder / "README.md").read_text("utf-8")


def _cv_auc(x: pd.DataFrame, y: pd.Series) -> float:
    model = HistGradientBoostingClassifier(max_depth=3, max_iter=30)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(np.mean(cross_val_score(model, x, y, cv=folds, scoring="roc_auc")))


def test_marketing_data_is_seeded_and_the_label_depends_on_both_parties():
    a, b = make_marketing_data(seed=3), make_marketing_data(seed=3)
    pd.testing.assert_frame_equal(a.telco, b.telco)
    joined = a.carmaker.merge(a.telco, on="phone")
    assert len(joined) == a.overlap
    x = pd.get_dummies(joined.drop(columns=["phone", "bought"]), dtype=float)
    car = [c for c in x if c.startswith(("ownership", "service", "model_segment"))]
    telco = [c for c in x if c not in car]
    both, car_only, telco_only = (_cv_auc(x[c], joined.bought) for c in (list(x), car, telco))
    assert both > car_only + 0.01 and both > telco_only + 0.01, (both, car_only, telco_only)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_runs_standalone_and_reaches_its_floor(tmp_path, name):
    # The template's default size: the guest's split is drawn from secret randomness, and the
    # floors are set ~3 standard deviations under the mean over splits (docs/templates/).
    res = CliRunner().invoke(app, ["template", "run", name, "--standalone", "--json",
                                   "--dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    run = json.loads(res.stdout.strip().splitlines()[-1])
    assert run["state"] == "succeeded", run
    assert run["headline"]["reached_floor"], run
    assert run["headline"]["value"] >= get_template(name).headline.floor


def test_verify3_flags_equal_the_generated_truth_exactly(tmp_path):
    res = CliRunner().invoke(app, ["template", "run", "verify3", "--standalone", "--json",
                                   "--customers", "300", "--dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(tmp_path / "result.csv", dtype={"customer_id": str})
    want = pd.read_csv(tmp_path / "expected_flags.csv", dtype={"customer_id": str})
    flags = ["phone_found", "name_match", "id_match"]
    merged = got.merge(want, on="customer_id", suffixes=("", "_want"))
    assert len(merged) == len(want) == 300
    for flag in flags:
        assert (merged[flag] == merged[f"{flag}_want"]).all(), flag
    # every case the generator plants is present: all match, each element wrong, phone unknown
    cases = set(map(tuple, want[flags].to_numpy().tolist()))
    assert {(1, 1, 1), (1, 0, 1), (1, 1, 0), (0, 0, 0)} <= cases


def test_verification_and_credit_generators_plant_what_their_pages_say():
    v = make_verification_data(2000, 10000, seed=2)
    rates = v.truth[["phone_found", "name_match", "id_match"]].mean()
    assert abs(rates.phone_found - 0.93) < 0.02 and abs(rates.id_match - 0.86) < 0.03
    assert set(v.bank.phone[v.truth.phone_found == 1]) <= set(v.telco.phone)
    assert not set(v.bank.phone[v.truth.phone_found == 0]) & set(v.telco.phone)
    bank, telco = make_credit_raw(1000, 1250, 750, seed=2)
    assert bank.income.isna().any() and telco.data_gb.isna().any()
    assert not pd.api.types.is_numeric_dtype(bank.employment)
    assert not pd.api.types.is_numeric_dtype(telco.plan)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):  # type: ignore[no-untyped-def]
    """One cluster for the node-process tests (start-up is the expensive part): bank, telco
    and coordinator for cross analysis, and a car maker for joint marketing."""
    from coalition.demo.cluster import cluster

    root = tmp_path_factory.mktemp("template-nodes")
    with cluster(root / "nodes", ["bank", "telco", "coordinator", "carmaker"],
                 data_dirs=[root], fast_password_hashing=True) as running:
        yield running


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_cross_analysis_runs_across_three_node_processes_with_its_group_by(nodes):  # type: ignore[no-untyped-def]
    from coalition.demo.templates import run_template_on_nodes

    run = run_template_on_nodes("cross_analysis", nodes.root.parent / "cross", customers=600,
                                nodes=nodes)
    assert run.mode == "nodes" and run.state == "succeeded", run.to_dict()
    assert run.reached_floor, run.to_dict()
    assert run.metrics["groupby"]["groups_reported"] >= 3, run.metrics
    jobs = nodes["bank"].call("GET", "/jobs")
    job = max(jobs, key=lambda j: j["created_at"])["id"]
    [report] = [r for r in nodes["bank"].call("GET", f"/jobs/{job}/reports")
                if r["task"] == "groupby" and r["output"] == "report"]
    [table] = report["report"]["tables"]
    assert {r[3] for r in table["rows"] if not r[7]} == {"monthly_bill", "late_bills"}
    for org in ("bank", "telco", "coordinator"):
        assert (nodes.root / org / "node.log").is_file(), org


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_joint_marketing_scores_the_telcos_non_customers_through_a_deployed_service(nodes):  # type: ignore[no-untyped-def]
    from coalition.demo.templates import run_template_on_nodes

    run = run_template_on_nodes("joint_marketing", nodes.root.parent / "market", customers=300,
                                nodes=nodes)
    assert run.state == "succeeded", run.to_dict()
    served = run.serving
    truth = pd.read_csv(nodes.root.parent / "market" / "expected_prospects.csv")
    assert served["prospects_scored"] == len(truth) > 0  # every non-customer, once
    assert np.isfinite(served["prospect_lift_top_decile"])
    [service] = nodes["carmaker"].call("GET", "/services")
    assert service["name"] == "prospects" and service["model"] == served["model"]
    assert service["hosts"] == {"telco": "prospects_online"}
    [model] = [m for m in nodes["telco"].call("GET", "/models")
               if m["name"].endswith("joint_marketing_prospects")]
    assert model["role"] == "host" and model["guest"] == "carmaker"  # the telco's own part
    assert {p["org"] for p in model["parties"]} == {"carmaker", "telco"}


def test_prospect_lift_reads_the_outcome_rate_of_the_top_decile():
    from coalition.core.errors import InputError
    from coalition.demo.templates.serve import lift_top_decile

    scores = np.arange(100, dtype=np.float64)  # the 10 highest scores are rows 90..99
    bought = np.zeros(100)
    bought[[95, 97, 3, 40]] = 1  # 2 of the top 10, 4 of 100
    assert lift_top_decile(scores, bought) == pytest.approx((2 / 10) / (4 / 100))
    with pytest.raises(InputError):
        lift_top_decile(scores, np.zeros(100))  # no outcome: no lift
