"""The web console's server side: the SPA at ``/`` and the read-only component catalog."""

from __future__ import annotations

import datetime as dt
import gzip
import re

import pytest
import yaml
from nodekit import NodeEnv, app_client

from coalition.components import REGISTRY
from coalition.core.errors import NotFoundError
from coalition.engine.templates import JOB_TEMPLATES
from coalition.node.auth.permissions import UserRole
from coalition.node.console.routes import STATIC


def test_console_is_served_with_spa_fallback(shared_env: NodeEnv) -> None:
    index = shared_env.client.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert '<div id="root">' in index.text
    deep = shared_env.client.get("/jobs/0123456789abcdef")  # a client-side route
    assert deep.status_code == 200 and deep.text == index.text
    asset = next((STATIC / "assets").glob("index-*.js"))
    r = shared_env.client.get(f"/assets/{asset.name}")
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]


def test_initial_load_stays_under_350_kb_gzip() -> None:
    """Issue 21: what the browser fetches before the first screen (index.html and the assets
    it names) is at most 350 KB gzip; the canvas and the charts stay in lazy chunks."""
    index = (STATIC / "index.html").read_text(encoding="utf-8")
    assets = re.findall(r'(?:src|href)="/assets/([^"]+)"', index)
    assert any(a.endswith(".js") for a in assets)
    sizes = [len(gzip.compress((STATIC / "assets" / a).read_bytes(), 9)) for a in assets]
    assert sum(sizes) + len(gzip.compress(index.encode(), 9)) <= 350 * 1024, sizes
    entry = "".join((STATIC / "assets" / a).read_text(encoding="utf-8")
                    for a in assets if a.endswith(".js"))
    assert "react-flow__" not in entry and "echarts" not in entry


def test_api_paths_never_fall_back_to_the_app(shared_env: NodeEnv) -> None:
    r = shared_env.client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = shared_env.client.get("/api/v2/anything")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert shared_env.client.get("/openapi.json").json()["info"]["title"].startswith("Coalition")


def test_static_files_stay_inside_the_folder(shared_env: NodeEnv) -> None:
    r = shared_env.client.get("/..%2F..%2Fconsole%2Froutes.py")
    assert r.status_code == 200 and '<div id="root">' in r.text  # the app, never the file


def test_component_catalog_lists_every_component_with_schema(shared_env: NodeEnv) -> None:
    r = shared_env.client.get("/api/v1/components", headers=shared_env.auth())
    assert r.status_code == 200
    body = {c["ref"]: c for c in r.json()}
    assert set(body) == set(REGISTRY.refs())
    boost = body["hetero_secureboost:1"]
    assert boost["category"] == "vertical"
    assert boost["inputs"]["train_data"]["kind"] == "dataset"
    assert boost["outputs"]["model"]["kind"] == "model"
    assert "num_trees" in boost["parameters"]["properties"]
    one = shared_env.client.get("/api/v1/components/psi", headers=shared_env.auth()).json()
    assert one["ref"] == "psi:1" and one["category"] == "data"
    missing = shared_env.client.get("/api/v1/components/nope", headers=shared_env.auth())
    assert missing.status_code == 404


def test_dag_validate_reports_field_paths(shared_env: NodeEnv) -> None:
    dag = {"version": 1, "name": "t", "parties": {"guest": ["bank"], "host": ["telco"]},
           "tasks": {"read": {"component": "reader",
                              "parameters": {"id_column": "id", "path": "d"}},
                     "train": {"component": "hetero_secureboost",
                               "parameters": {"num_trees": 0},
                               "inputs": {"train_data": "read.metrics"}}}}
    r = shared_env.client.post("/api/v1/dags/validate", json=dag, headers=shared_env.auth())
    assert r.status_code == 200
    out = r.json()
    assert out["valid"] is False
    paths = {p["path"] for p in out["problems"]}
    assert "tasks.train.parameters.num_trees" in paths
    assert all(p["task"] in ("read", "train") for p in out["problems"] if p["path"].startswith("tasks."))
    dag["tasks"]["train"] = {"component": "psi", "inputs": {"data": "read.data"}}
    r = shared_env.client.post("/api/v1/dags/validate", json=dag, headers=shared_env.auth())
    assert r.json()["valid"] is True, r.json()
    assert r.json()["order"] == ["read", "train"]


def test_node_info_carries_the_certificate_expiry(shared_env: NodeEnv) -> None:
    info = shared_env.client.get("/api/v1/node", headers=shared_env.auth()).json()
    expires = dt.datetime.fromisoformat(info["cert_expires_at"])
    assert expires > dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    assert info["crypto_suite"] == shared_env.rt.settings.crypto_suite.value == "standard"


def test_client_reads_the_catalog_and_validates(shared_env: NodeEnv) -> None:
    with app_client(shared_env.rt, shared_env.tokens[UserRole.DATA_SCIENTIST]) as client:
        assert {c["ref"] for c in client.components()} == set(REGISTRY.refs())
        assert client.component("evaluate")["category"] == "scoring"
        assert {t["name"] for t in client.job_templates()} == set(JOB_TEMPLATES)
        assert client.job_template("verify3")["dag"]["parties"]["host"] == ["telco"]
        verdict = client.validate_dag({"version": 1, "name": "x", "parties": {}, "tasks": {}})
        assert verdict["valid"] is False and verdict["problems"]
        with pytest.raises(NotFoundError):
            client.job_reports("0123456789abcdef")


def test_templates_are_served_with_documents_that_validate(shared_env: NodeEnv) -> None:
    listed = shared_env.client.get("/api/v1/templates", headers=shared_env.auth()).json()
    assert {t["name"] for t in listed} == set(JOB_TEMPLATES)
    scorecard = next(t for t in listed if t["name"] == "credit_scorecard")
    assert scorecard["roles"]["arbiter"] == ["coordinator"] and scorecard["dag"] is None
    for name in JOB_TEMPLATES:
        one = shared_env.client.get(f"/api/v1/templates/{name}", headers=shared_env.auth()).json()
        assert one["dag"] == yaml.safe_load(one["dag_yaml"])
        verdict = shared_env.client.post("/api/v1/dags/validate", json=one["dag"],
                                         headers=shared_env.auth()).json()
        assert verdict["valid"], (name, verdict)  # the editor can run what it loads
    missing = shared_env.client.get("/api/v1/templates/nope", headers=shared_env.auth())
    assert missing.status_code == 404
