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
