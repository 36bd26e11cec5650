"""The Python SDK compiles to the same document as the YAML form."""

import pytest

from coalition.core import ConfigError
from coalition.engine.dag import DagError, load_dag
from coalition.engine.sdk import Pipeline

YAML = """
version: 1
name: credit_risk
parties:
  guest: [bank]
  host: [telco]
  arbiter: [coordinator]
tasks:
  read:
    component: reader
    parameters: {id_column: phone}
    role_parameters:
      guest: {label_column: default}
    party_parameters:
      guest:bank: {path: data/bank.csv}
      host:telco: {path: data/telco.csv}
  align:
    component: psi
    inputs: {data: read.data}
  split:
    component: data_split
    parameters: {test_size: 0.3, seed: 7}
    inputs: {data: align.data}
  lr:
    component: hetero_lr
    parameters: {epochs: 10, optimizer: momentum}
    inputs: {train_data: split.train}
  pred:
    component: predict
    inputs: {model: lr.model, data: split.test}
  eval:
    component: evaluate
    roles: [guest]
    inputs: {data: pred.predictions}
"""


def build() -> Pipeline:
    job = Pipeline("credit_risk").parties(guest="bank", host=["telco"], arbiter="coordinator")
    read = job.task("read", "reader", id_column="phone").for_role("guest", label_column="default")
    read.for_party("guest:bank", path="data/bank.csv").for_party("host:telco",
                                                                 path="data/telco.csv")
    align = job.task("align", "psi", data=read.out("data"))
    split = job.task("split", "data_split", data=align.out("data"), test_size=0.3, seed=7)
    lr = job.task("lr", "hetero_lr", train_data=split.out("train"), epochs=10,
                  optimizer="momentum")
    pred = job.task("pred", "predict", model=lr.out("model"), data=split.out("test"))
    job.task("eval", "evaluate", data=pred.out("predictions")).only("guest")
    return job


def test_sdk_and_yaml_compile_to_the_same_document():
    job = build()
    assert job.compile() == load_dag(YAML)
    assert job.compile().to_document() == load_dag(YAML).to_document()
    assert load_dag(job.to_yaml()).to_document() == load_dag(YAML).to_document()
    assert load_dag(job.to_json()) == load_dag(YAML)


def test_sdk_graph_validates_like_yaml():
    from coalition.engine.validate import validate_dag

    assert build().validate().digest() == validate_dag(load_dag(YAML)).digest()


def test_sdk_errors_use_the_same_validator():
    job = Pipeline("bad").parties(guest="g", host="h")
    read = job.task("read", "reader", path="x.csv")
    job.task("lr", "hetero_lr", train_data=read.out("metrics"), epochs=0)
    with pytest.raises(DagError) as info:
        job.validate()
    assert {p.path for p in info.value.problems} == {"tasks.lr.inputs.train_data",
                                                     "tasks.lr.parameters.epochs"}
    with pytest.raises(ConfigError):
        job.task("read", "psi")
    with pytest.raises(ValueError):
        job.parties(judge="x")


def _psi_pipeline() -> Pipeline:
    job = Pipeline("align_only").parties(guest="bank", host="telco")
    read = job.task("read", "reader", id_column="phone")
    read.for_party("guest:bank", path="bank.csv").for_party("host:telco", path="telco.csv")
    job.task("align", "psi", data=read.out("data"))
    return job


def test_run_local_runs_every_party_here_and_reuses_the_cache(tmp_path):
    (tmp_path / "bank.csv").write_text("phone,x\n" + "".join(f"{i},{i}\n" for i in range(40)))
    (tmp_path / "telco.csv").write_text("phone,y\n" + "".join(f"{i},{i}\n"
                                                              for i in range(20, 70)))
    job = _psi_pipeline()
    report = job.run_local(tmp_path / "runs", data_root=tmp_path)
    assert report.state.value == "succeeded", report.to_dict()
    again = job.run_local(tmp_path / "runs", data_root=tmp_path)
    assert {t.name: t.state.value for t in again.tasks.values()} == {
        "read": "reused", "align": "reused"}


class _RecordingClient:
    """Stands in for NodeClient: records what a submit sends."""

    def __init__(self):
        self.sent = []

    def submit_job(self, dag, **options):
        self.sent.append((dag, options))
        return {"id": "0123456789abcdef", "state": "proposed"}


def test_submit_validates_here_then_sends_the_document(tmp_path):
    client = _RecordingClient()
    job = _psi_pipeline()
    out = job.submit(client, sites={"host:telco": "telco-eu"}, until="read", timeout_s=60)
    assert out["id"] == "0123456789abcdef"
    [(dag, options)] = client.sent
    assert dag == job.document()
    assert options == {"sites": {"host:telco": "telco-eu"}, "only": None, "from": None,
                       "until": "read", "force": False, "timeout_s": 60}
    broken = Pipeline("broken").parties(guest="bank")
    broken.task("align", "psi")
    with pytest.raises(DagError):
        broken.submit(client)
    assert len(client.sent) == 1
