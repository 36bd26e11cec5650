"""Every kind of DAG error is reported with the task and field it is about — all at once."""

import pytest

from coalition.core import ConfigError
from coalition.engine.dag import DagError, dump_dag, load_dag, parse_dag
from coalition.engine.validate import validate_dag

HEAD = """
version: 1
name: t
parties: {guest: [bank], host: [telco], arbiter: [coord]}
tasks:
  read:
    component: reader
    role_parameters: {guest: {label_column: y}}
    party_parameters: {"guest:bank": {path: g.csv}, "host:telco": {path: h.csv}}
  align: {component: psi, inputs: {data: read.data}}
  split: {component: data_split, inputs: {data: align.data}}
"""


def problems(text: str) -> dict[str, str]:
    with pytest.raises(DagError) as info:
        validate_dag(load_dag(text))
    assert isinstance(info.value, ConfigError)
    found: dict[str, str] = {}
    for p in info.value.problems:
        found[p.path] = f"{found[p.path]} | {p.message}" if p.path in found else p.message
    return found


def test_a_good_dag_validates_in_topological_order():
    graph = validate_dag(load_dag(HEAD + """
  lr: {component: hetero_lr, inputs: {train_data: split.train}}
  pred: {component: predict, inputs: {model: lr.model, data: split.test}}
  eval: {component: evaluate, inputs: {data: pred.predictions}}
"""))
    assert list(graph.tasks) == ["read", "align", "split", "lr", "pred", "eval"]
    assert [str(p) for p in graph.tasks["lr"].parties] == ["arbiter:coord", "guest:bank",
                                                           "host:telco"]
    assert [str(p) for p in graph.tasks["eval"].parties] == ["guest:bank"]
    assert graph.tasks["read"].params[graph.parties[1]].label_column == "y"
    assert len(graph.digest()) == 64


def test_all_problems_are_reported_together_with_paths():
    found = problems(HEAD + """
  lr:
    component: hetero_lr
    inputs: {train_data: split.metrics, extra: split.train}
    parameters: {epochs: 0, protocol: ss}
  sb: {component: hetero_secureboost, inputs: {train_data: nowhere.data}}
  nn: {component: neural_magic}
  ev: {component: evaluate, inputs: {data: split.nope}}
""")
    assert found == {
        "tasks.lr.inputs.train_data": "type mismatch: input 'train_data' takes a dataset, "
                                      "'split.metrics' is a metrics",
        "tasks.lr.inputs.extra": found["tasks.lr.inputs.extra"],
        "tasks.lr.parameters.epochs": "Input should be greater than or equal to 1",
        "tasks.sb.inputs.train_data": "unknown task 'nowhere'",
        "tasks.nn.component": found["tasks.nn.component"],
        "tasks.ev.inputs.data": found["tasks.ev.inputs.data"],
    }
    assert "no input 'extra'" in found["tasks.lr.inputs.extra"]
    assert "unknown component 'neural_magic'" in found["tasks.nn.component"]
    assert "no output 'nope'" in found["tasks.ev.inputs.data"]


def test_cycles_name_the_tasks():
    found = problems(HEAD + """
  a: {component: psi, inputs: {data: b.data}}
  b: {component: psi, inputs: {data: a.data}}
""")
    (path, msg), = [(p, m) for p, m in found.items() if "cycle" in m]
    assert path in ("tasks.a.inputs", "tasks.b.inputs")
    assert "a -> b" in msg or "b -> a" in msg


def test_missing_roles_and_role_restrictions():
    found = problems("""
name: t
parties: {guest: [bank], host: [telco]}
tasks:
  read: {component: reader, parameters: {path: x.csv}}
  lr: {component: hetero_lr, parameters: {protocol: he-arbiter}, inputs: {train_data: read.data}}
  sb: {component: hetero_secureboost, roles: [guest, arbiter], inputs: {train_data: read.data}}
""")
    assert "needs role(s) ['arbiter']" in found["tasks.lr.roles"]
    assert "does not support role(s) ['arbiter']" in found["tasks.sb.roles"]


def test_parameter_errors_point_at_the_block_they_came_from():
    found = problems(HEAD.replace("{label_column: y}", "{label_column: 7}") + """
  lr:
    component: hetero_lr
    inputs: {train_data: split.train}
    role_parameters: {host: {optimizer: adam}, arbiter: {epochs: -1}}
    party_parameters: {"host:nobody": {epochs: 1}}
  ev: {component: evaluate, role_parameters: {host: {}}, inputs: {data: split.test}}
""")
    assert found["tasks.read.role_parameters.guest.label_column"] == "Input should be a valid string"
    assert "adam" in found["tasks.lr.role_parameters.host.optimizer"]  # a conflict names its field
    assert found["tasks.lr.role_parameters.arbiter.epochs"].startswith("Input should be greater")
    assert "not a party of this task" in found["tasks.lr.party_parameters.host:nobody"]
    assert "no party of this role" in found["tasks.ev.role_parameters.host"]


def test_role_specific_constraints():
    found = problems(HEAD.replace('{path: h.csv}', '{path: h.csv, label_column: y}'))
    assert found == {"tasks.read.party_parameters.host:telco.label_column":
                     "only the guest holds labels"}


def test_missing_required_parameters_and_inputs():
    found = problems("""
name: t
parties: {guest: [bank], host: [telco]}
tasks:
  read: {component: reader, party_parameters: {"guest:bank": {path: g.csv}}}
  align: {component: psi}
""")
    assert found["tasks.read.parameters.path"] == "Field required (for host:telco)"
    assert found["tasks.align.inputs.data"] == "required input is not wired"


def test_outputs_must_exist_for_every_consuming_role():
    found = problems(HEAD + """
  lr: {component: hetero_lr, inputs: {train_data: split.train}}
  pred: {component: predict, inputs: {model: lr.model, data: split.test}}
  ev: {component: evaluate, roles: [guest, host], inputs: {data: pred.predictions}}
  homo: {component: homo_lr, inputs: {train_data: split.train}}
  ev2: {component: evaluate, inputs: {data: homo.predictions}}
""")
    assert "not produced for role(s) ['host']" in found["tasks.ev.inputs.data"]
    assert "only when task 'homo' is given input 'test_data'" in found["tasks.ev2.inputs.data"]


def test_schema_errors_carry_paths():
    with pytest.raises(DagError) as info:
        load_dag("name: t\nparties: {guest: [g], judge: [x]}\ntasks:\n  a: {componnt: psi}\n")
    paths = {p.path for p in info.value.problems}
    assert "parties.judge.[key]" in paths
    assert "tasks.a.componnt" in paths and "tasks.a.component" in paths
    assert {p.task for p in info.value.problems} >= {"a", None}


@pytest.mark.parametrize("text", ["tasks: [", "- 1\n- 2\n"])
def test_unparseable_documents(text):
    with pytest.raises(DagError) as info:
        load_dag(text)
    assert info.value.problems[0].path == "(document)"


def test_job_level_problems():
    found = problems("""
name: t
parties: {host: [a, a, "b:c"], arbiter: [x, y]}
tasks: {}
""")
    assert set(found) == {"parties.host", "parties.host.2", "parties.guest", "parties.arbiter",
                          "tasks"}


def test_problem_document_lists_errors():
    with pytest.raises(DagError) as info:
        validate_dag(parse_dag({"name": "t", "parties": {"guest": ["g"]},
                                "tasks": {"x": {"component": "nope"}}}))
    body = info.value.to_problem()
    assert body["code"] == "dag.invalid" and body["errors"][0]["path"] == "tasks.x.component"


def test_yaml_and_json_round_trip():
    spec = load_dag(HEAD)
    assert load_dag(dump_dag(spec, "json")) == spec
    assert load_dag(dump_dag(spec, "yaml")) == spec


def test_ledger_operator_arbiter_needs_an_arbiter():
    base = {"version": 1, "name": "t", "parties": {"guest": ["g"], "host": ["h"]},
            "tasks": {"read": {"component": "reader"}}}
    assert parse_dag({**base}).ledger_operator == "initiator"
    with pytest.raises(DagError) as info:
        parse_dag({**base, "ledger_operator": "arbiter"})
    assert "needs an arbiter party" in str([p.message for p in info.value.problems])
    chosen = parse_dag({**base, "ledger_operator": "arbiter",
                       "parties": {**base["parties"], "arbiter": ["a"]}})
    assert chosen.ledger_operator == "arbiter"
    assert chosen.to_document()["ledger_operator"] == "arbiter"
    assert "ledger_operator" not in parse_dag(base).to_document()  # old DAG hashes unchanged
