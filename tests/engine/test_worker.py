"""The worker's contract (:mod:`coalition.engine.worker`): a typed spec in, typed lines out,
run as ``python -P -m coalition.engine.worker SPEC`` without the node package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coalition.core.errors import ConfigError
from coalition.engine.worker import (
    InputRef,
    MetricLine,
    ResultLine,
    WorkerSpec,
    WorkerTrust,
    parse_line,
    worker_command,
)

JOB = "0123456789abcdef"


def _spec(tmp_path: Path, **changes: object) -> WorkerSpec:
    fields: dict[str, object] = dict(
        job=JOB, task="train", party="host:telco", dag={"name": "j"}, key="k1",
        inputs={"data": InputRef(task="read", key="k0", output="data")},
        store=tmp_path / "store", datasets={"usage": tmp_path / "usage.csv"},
        listen="127.0.0.1:4711", peers={"guest:bank": "127.0.0.1:4712"},
        key_file=tmp_path / "p.key", cert_file=tmp_path / "p.crt",
        trust=WorkerTrust(roots_pem="ROOTS", pins={"guest:bank": "ab" * 32},
                          peer_roots={"guest:bank": "PEM"}),
        timeout=30.0, parent_pid=os.getpid())
    fields.update(changes)
    return WorkerSpec.model_validate(fields)


def _run_worker(spec: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The launcher's own command line (without the spec argument if ``spec`` is None)."""
    command = worker_command(Path(spec or "-"))
    if spec is None:
        command.pop()
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120,
                          check=False)


def test_spec_round_trips_through_its_file(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    path = tmp_path / "work" / "train.host-telco.json"
    spec.write(path)
    assert WorkerSpec.read(path) == spec
    assert spec.party_id().name == "telco"


@pytest.mark.parametrize(("field", "value"), [
    ("party", "nobody-secret-4711"),
    ("job", "../secret-4711"),
    ("timeout", -1),
    ("peers", {"planet:secret-4711": "x:1"}),
])
def test_malformed_spec_is_a_config_error_naming_fields_not_values(
        tmp_path: Path, field: str, value: object) -> None:
    doc = json.loads(_spec(tmp_path).model_dump_json())
    doc[field] = value
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError) as info:
        WorkerSpec.read(path)
    assert info.value.details["fields"] == [field]
    assert "4711" not in json.dumps(info.value.to_problem())


def test_unknown_fields_are_refused(tmp_path: Path) -> None:
    doc = json.loads(_spec(tmp_path).model_dump_json()) | {"run_as": "root"}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="malformed"):
        WorkerSpec.read(path)


def test_missing_spec_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        WorkerSpec.read(tmp_path / "absent.json")


def test_parse_line_reads_protocol_lines_and_nothing_else() -> None:
    assert parse_line('{"metric": "auc", "value": 0.8, "step": 3}\n') == MetricLine(
        metric="auc", value=0.8, step=3)
    assert parse_line('{"result": "ok"}\n') == ResultLine(result="ok")
    assert parse_line('{"result": "error", "code": "input.invalid", "error": "bad"}') == \
        ResultLine(result="error", code="input.invalid", error="bad")
    for other in ("plain library output", "| Traceback (most recent call last):",
                  "{not json", "[1, 2]", '{"other": 1}', '{"metric": "auc"}',
                  '{"metric": "auc", "value": "high"}', '{"result": "maybe"}',
                  '{"result": "ok", "extra": 1}'):
        assert parse_line(other) is None, other


def test_lines_are_written_as_parse_line_reads_them() -> None:
    for line in (MetricLine(metric="loss", value=0.5), MetricLine(metric="a", value=1, step=2),
                 ResultLine(result="ok"), ResultLine(result="error", code="c", error="e")):
        assert parse_line(line.model_dump_json(exclude_defaults=True)) == line


def test_worker_module_reports_a_malformed_spec_as_a_typed_result(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text('{"party": "nobody-secret-4711"}')
    done = _run_worker("spec.json", cwd=tmp_path)
    assert done.returncode == 1
    lines = [parse_line(line) for line in done.stdout.splitlines()]
    results = [line for line in lines if isinstance(line, ResultLine)]
    assert results == [ResultLine(result="error", code="config.invalid",
                                  error="worker spec is malformed")]


def test_worker_module_without_a_spec_is_a_usage_error(tmp_path: Path) -> None:
    done = _run_worker(None, cwd=tmp_path)
    assert done.returncode == 2
    assert "usage" in done.stderr


def test_worker_module_shadowed_by_nothing_in_the_working_directory(tmp_path: Path) -> None:
    # -P keeps the working directory off sys.path: a planted module there is never imported.
    (tmp_path / "pydantic.py").write_text("raise SystemExit('planted module imported')\n")
    (tmp_path / "spec.json").write_text("{}")
    done = _run_worker("spec.json", cwd=tmp_path)
    assert done.returncode == 1
    assert "planted" not in done.stdout + done.stderr


def test_worker_imports_no_node_code() -> None:
    code = ("import sys, coalition.engine.worker.process; "
            "print(sorted(m for m in sys.modules if m.startswith('coalition.node')))")
    done = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_worker_start_imports_no_heavy_library_it_may_not_need() -> None:
    """Every task starts a worker, so its start-up is paid per task and party: scikit-learn
    (with SciPy, about 0.8 s of a 1.8 s start on the 2-core machine) and PyTorch load only in
    the components that use them."""
    code = ("import sys, coalition.engine.worker.process; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'torch'}))")
    done = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_spec_carries_the_compute_executor_and_refuses_an_unknown_backend(tmp_path: Path) -> None:
    from coalition.compute import ComputeSpec

    assert _spec(tmp_path).compute == ComputeSpec()  # the inline default
    spec = _spec(tmp_path, compute=ComputeSpec(backend="ray", workers=2,
                                               ray_address="ray://head:10001"))
    path = tmp_path / "spec.json"
    spec.write(path)
    assert WorkerSpec.read(path).compute.ray_address == "ray://head:10001"
    doc = json.loads(spec.model_dump_json())
    doc["compute"]["backend"] = "spark"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError) as info:
        WorkerSpec.read(path)
    assert info.value.details["fields"] == ["compute"]
