"""Standalone runner on toy components: cache reuse, partial runs, failures, state events."""

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from coalition.cli import job as job_cli
from coalition.components import (
    ArtifactKind,
    Component,
    Dataset,
    Environment,
    Input,
    Metrics,
    Output,
    Registry,
    slots,
)
from coalition.core import InputError, MessageKey, Params, Party, Role
from coalition.engine.dag import parse_dag
from coalition.engine.local import PartyFailedError
from coalition.engine.standalone import StandaloneRunner
from coalition.engine.states import JobState, TaskState
from coalition.engine.validate import validate_dag

RUNS: Counter[str] = Counter()
BOTH = frozenset({Role.GUEST, Role.HOST})
G, H = Party.guest("g"), Party.host("h")
PING = MessageKey("ping")


class SourceParams(Params):
    path: str


class AddParams(Params):
    add: float = 1.0
    fail: bool = False


REG = Registry()


@REG.register
class Source(Component):
    name, version, description = "source", "1.0.0", "read a one-column CSV"
    Params, roles, required_roles = SourceParams, BOTH, BOTH
    outputs = slots(data=Output(ArtifactKind.DATASET, BOTH))

    @classmethod
    def fingerprint(cls, params, env):
        return env.resolve_data(params.path).read_text()

    def run(self, ctx):
        RUNS[f"{ctx.task}@{ctx.role.value}"] += 1
        frame = pd.read_csv(ctx.env.resolve_data(ctx.params.path), dtype={"id": str})
        return {"data": Dataset(frame, "id")}


@REG.register
class Add(Component):
    name, version, description = "add", "1.0.0", "add a constant; the guest pings the host"
    Params, roles, required_roles = AddParams, BOTH, BOTH
    inputs = slots(data=Input(ArtifactKind.DATASET, BOTH))
    outputs = slots(data=Output(ArtifactKind.DATASET, BOTH),
                    metrics=Output(ArtifactKind.METRICS, frozenset({Role.GUEST})))

    def run(self, ctx):
        RUNS[f"{ctx.task}@{ctx.role.value}"] += 1
        if ctx.params.fail and ctx.role is Role.HOST:
            raise InputError("host data is broken")
        if ctx.role is Role.GUEST:  # a toy: the real components dispatch by role table
            ctx.comm.send(ctx.comm.hosts, PING, 1)
        else:
            ctx.comm.recv(ctx.comm.guest, PING)
        data = ctx.dataset("data")
        frame = data.frame.assign(v=data.frame["v"] + ctx.params.add)
        out = {"data": data.with_frame(frame)}
        if ctx.role is Role.GUEST:
            out["metrics"] = Metrics({"sum": float(frame["v"].sum())})
        return out


def dag(**add_params):
    return validate_dag(parse_dag({
        "name": "toy", "parties": {"guest": ["g"], "host": ["h"]},
        "tasks": {
            "src": {"component": "source",
                    "party_parameters": {"guest:g": {"path": "g.csv"},
                                         "host:h": {"path": "h.csv"}}},
            "a": {"component": "add", "inputs": {"data": "src.data"}},
            "b": {"component": "add", "inputs": {"data": "a.data"}, "parameters": add_params},
            "c": {"component": "add", "inputs": {"data": "b.data"}},
            "side": {"component": "add", "inputs": {"data": "src.data"}},
        }}), REG)


@pytest.fixture
def workspace(tmp_path: Path):
    RUNS.clear()
    (tmp_path / "g.csv").write_text("id,v\n1,1\n2,2\n")
    (tmp_path / "h.csv").write_text("id,v\n1,10\n2,20\n")
    return tmp_path


def runner(ws: Path, graph=None, events=None) -> StandaloneRunner:
    return StandaloneRunner(graph or dag(), ws / "work", env=Environment(lambda r: ws / r),
                            on_transition=events.append if events is not None else None)


def ran(report):
    return set(report.with_state(TaskState.SUCCEEDED))


def test_full_run_then_everything_is_reused(workspace):
    first = runner(workspace).run()
    assert first.state is JobState.SUCCEEDED and ran(first) == {"src", "a", "b", "c", "side"}
    r = runner(workspace)
    second = r.run()
    assert set(second.with_state(TaskState.REUSED)) == {"src", "a", "b", "c", "side"}
    assert RUNS["a@guest"] == 1 and RUNS["a@host"] == 1
    assert r.output("c", G, "metrics") == Metrics({"sum": 9.0})
    assert r.output("c", H, "data").frame["v"].tolist() == [13, 23]


def test_rerun_from_a_task_reuses_upstream_and_skips_unrelated(workspace):
    runner(workspace).run()
    before = RUNS.copy()
    report = runner(workspace).run(start="b")
    assert ran(report) == {"b", "c"}
    assert set(report.with_state(TaskState.REUSED)) == {"src", "a"}
    assert "side" not in report.tasks
    assert RUNS["a@guest"] == before["a@guest"] and RUNS["src@host"] == before["src@host"]
    assert RUNS["b@guest"] == before["b@guest"] + 1


def test_only_and_until(workspace):
    runner(workspace).run()
    only = runner(workspace).run(only="a")
    assert ran(only) == {"a"} and set(only.tasks) == {"src", "a"}
    until = runner(workspace).run(until="b")
    assert ran(until) == {"src", "a", "b"} and "c" not in until.tasks


def test_partial_run_on_a_cold_cache_runs_what_it_needs(workspace):
    report = runner(workspace).run(only="b")
    assert ran(report) == {"src", "a", "b"}


def test_changed_parameters_or_data_invalidate_downstream(workspace):
    runner(workspace).run()
    changed = runner(workspace, dag(add=5.0)).run()
    assert set(changed.with_state(TaskState.REUSED)) == {"src", "a", "side"}
    assert ran(changed) == {"b", "c"}  # c's input content changed
    (workspace / "h.csv").write_text("id,v\n1,11\n2,20\n")
    edited = runner(workspace, dag(add=5.0)).run()
    assert ran(edited) == {"src", "a", "b", "c", "side"}


def test_force_reruns_everything(workspace):
    runner(workspace).run()
    assert ran(runner(workspace).run(force=True)) == {"src", "a", "b", "c", "side"}


def test_a_failure_fails_the_job_and_cancels_the_rest(workspace):
    events = []
    report = runner(workspace, dag(fail=True), events).run()
    assert report.state is JobState.FAILED
    assert report.tasks["b"].state is TaskState.FAILED
    assert report.tasks["c"].state is TaskState.CANCELLED
    assert isinstance(report.error, PartyFailedError) and report.error.party == H
    assert "host data is broken" in report.tasks["b"].error
    assert [(e.task, e.after) for e in events if e.task in (None, "b", "c")] == [
        (None, "running"), ("b", "running"), ("b", "failed"), ("c", "cancelled"),
        (None, "failed")]
    assert report.to_dict()["error"]["code"] == "job.party_failed"


def test_undeclared_outputs_fail_the_task(workspace):
    class Liar(Source):
        name = "liar"

        def run(self, ctx):
            return {"data": super().run(ctx)["data"], "extra": Metrics({})}

    reg = Registry()
    reg.register(Liar)
    graph = validate_dag(parse_dag({"name": "x", "parties": {"guest": ["g"], "host": ["h"]},
                                    "tasks": {"l": {"component": "liar",
                                                    "parameters": {"path": "g.csv"}}}}), reg)
    report = runner(workspace, graph).run()
    assert report.state is JobState.FAILED and "other outputs" in report.tasks["l"].error


def _cli() -> typer.Typer:
    app = typer.Typer()
    job_cli.register(app)
    return app


def test_cli_validate_and_run_local_on_builtins(tmp_path):
    (tmp_path / "g.csv").write_text("id,y,x\n" + "".join(f"{i},{i % 2},{i}\n" for i in range(40)))
    (tmp_path / "h.csv").write_text("id,z\n" + "".join(f"{i},{i * 2}\n" for i in range(10, 60)))
    (tmp_path / "job.yaml").write_text("""
name: cli
parties: {guest: [g], host: [h]}
tasks:
  read:
    component: reader
    role_parameters: {guest: {label_column: y}}
    party_parameters: {"guest:g": {path: g.csv}, "host:h": {path: h.csv}}
  align: {component: psi, inputs: {data: read.data}}
  split: {component: data_split, inputs: {data: align.data}, parameters: {test_size: 0.5}}
""")
    runner_ = CliRunner()
    ok = runner_.invoke(_cli(), ["job", "validate", str(tmp_path / "job.yaml")])
    assert ok.exit_code == 0 and "valid (3 tasks" in ok.stdout
    work = tmp_path / "w"
    first = runner_.invoke(_cli(), ["job", "run-local", str(tmp_path / "job.yaml"),
                                    "--workdir", str(work), "--json"])
    assert first.exit_code == 0, first.output
    again = runner_.invoke(_cli(), ["job", "run-local", str(tmp_path / "job.yaml"),
                                    "--workdir", str(work), "--from", "split", "--json"])
    tasks = json.loads(again.stdout)["tasks"]
    assert {n: t["state"] for n, t in tasks.items()} == {
        "read": "reused", "align": "reused", "split": "succeeded"}
    bad = runner_.invoke(_cli(), ["job", "run-local", str(tmp_path / "job.yaml"),
                                  "--only", "nope"])
    assert bad.exit_code == 2
    (tmp_path / "bad.yaml").write_text("name: b\nparties: {guest: [g]}\ntasks: {x: {component: q}}")
    invalid = runner_.invoke(_cli(), ["job", "validate", str(tmp_path / "bad.yaml"), "--json"])
    assert invalid.exit_code == 3
    assert json.loads(invalid.stdout)["problems"][0]["path"] == "tasks.x.component"
