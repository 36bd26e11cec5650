import pytest

from coalition.core import ConfigError
from coalition.engine.plan import (
    Action,
    CycleError,
    ancestors,
    decide,
    descendants,
    find_cycle,
    select,
    task_key,
    topological_order,
)

# read -> psi -> split -> {lr, sb}; lr -> lr_pred -> lr_eval; sb -> sb_pred
DEPS = {"read": [], "psi": ["read"], "split": ["psi"], "lr": ["split"], "sb": ["split"],
        "lr_pred": ["lr", "split"], "lr_eval": ["lr_pred"], "sb_pred": ["sb", "split"]}


def test_topological_order_respects_edges_and_declaration_order():
    order = topological_order(DEPS)
    assert order.index("read") == 0
    for task, ups in DEPS.items():
        assert all(order.index(u) < order.index(task) for u in ups)
    assert order.index("lr") < order.index("sb")  # ties keep declaration order


def test_cycles_are_found_and_named():
    deps = {"a": ["c"], "b": ["a"], "c": ["b"], "d": []}
    cycle = find_cycle(deps)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    with pytest.raises(CycleError) as info:
        topological_order(deps)
    assert set(info.value.cycle) == {"a", "b", "c"}
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    assert find_cycle(DEPS) is None


def test_ancestors_and_descendants():
    assert ancestors(DEPS, ["lr_pred"]) == {"lr", "split", "psi", "read"}
    assert descendants(DEPS, ["sb"]) == {"sb_pred"}
    assert descendants(DEPS, ["split"]) == {"lr", "sb", "lr_pred", "lr_eval", "sb_pred"}


def test_selection_modes():
    full = select(DEPS)
    assert not full.partial and full.targets == set(DEPS) and len(full.needed) == len(DEPS)
    only = select(DEPS, only="lr")
    assert only.targets == {"lr"} and only.needed == ("read", "psi", "split", "lr")
    start = select(DEPS, start="sb")
    assert start.targets == {"sb", "sb_pred"}
    assert set(start.needed) == {"read", "psi", "split", "sb", "sb_pred"}
    until = select(DEPS, until="lr_pred")
    assert until.targets == {"read", "psi", "split", "lr", "lr_pred"}
    both = select(DEPS, start="split", until="lr_pred")
    assert both.targets == {"split", "lr", "lr_pred"}


@pytest.mark.parametrize("kwargs", [
    {"only": "nope"}, {"start": "nope"}, {"only": "lr", "start": "lr"},
    {"start": "sb", "until": "lr"},
])
def test_bad_selections_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        select(DEPS, **kwargs)


def test_decide_reuses_only_unforced_full_hits():
    full, partial = select(DEPS), select(DEPS, start="sb")
    assert decide("lr", full, all_parties_hit=True, force=False) is Action.REUSE
    assert decide("lr", full, all_parties_hit=False, force=False) is Action.RUN
    assert decide("lr", full, all_parties_hit=True, force=True) is Action.RUN
    assert decide("sb", partial, all_parties_hit=True, force=False) is Action.RUN
    assert decide("split", partial, all_parties_hit=True, force=True) is Action.REUSE
    assert decide("split", partial, all_parties_hit=False, force=False) is Action.RUN


def test_task_key_covers_version_params_inputs_and_data():
    base = ("psi", "1.0.0", {"parameters": {"a": 1}}, {"data": "d1"}, "fp")
    key = task_key(*base)
    assert task_key(*base) == key and len(key) == 64
    variants = [("psi", "1.0.1", *base[2:]), (*base[:2], {"parameters": {"a": 2}}, *base[3:]),
                (*base[:3], {"data": "d2"}, "fp"), (*base[:4], "fp2"), ("reader", *base[1:])]
    assert len({task_key(*v) for v in variants} | {key}) == len(variants) + 1
