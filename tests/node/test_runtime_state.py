"""Per-runtime feature state (coalition.node.slots): held on the runtime, one instance per
runtime, closed with it; never in a module dict keyed by id(rt)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from nodekit import NodeEnv

from coalition.core.errors import ConfigError
from coalition.node import NodeRuntime
from coalition.node.jobs.manager import MANAGER, manager_for
from coalition.node.serving.state import STATE, state_of
from coalition.node.settings import NodeSettings
from coalition.node.slots import Slot, Slots

NODE = Path(__file__).resolve().parents[2] / "src" / "coalition" / "node"


class _Counter:
    def __init__(self) -> None:
        self.closed = False


def test_each_runtime_has_its_own_state_and_closes_it(env: NodeEnv) -> None:
    other = NodeRuntime.open(NodeSettings.load(env.home))
    try:
        assert manager_for(env.rt) is manager_for(env.rt) is env.rt.state(MANAGER)
        assert state_of(env.rt) is env.rt.state(STATE)
        assert manager_for(other) is not manager_for(env.rt)
        assert state_of(other) is not state_of(env.rt)
    finally:
        other.close()
    with pytest.raises(ConfigError, match="closed"):
        manager_for(other)


def test_slots_create_once_start_after_and_close_last_first() -> None:
    order: list[str] = []

    def make(name: str) -> Slot[_Counter]:
        def close(c: _Counter) -> None:
            c.closed = True
            order.append(f"close {name}")

        return Slot(name, lambda rt: _Counter(), close=close,
                    start=lambda rt, c: order.append(f"start {name}"))

    first, second = make("a"), make("b")
    slots, rt = Slots(), object()
    a = slots.get(rt, first)  # type: ignore[arg-type]
    assert slots.get(rt, first) is a  # type: ignore[arg-type]
    b = slots.get(rt, second)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="share a name"):
        slots.get(rt, make("a"))  # type: ignore[arg-type]
    slots.close()
    assert a.closed and b.closed
    assert order == ["start a", "start b", "close b", "close a"]


def test_no_module_dict_is_keyed_by_a_runtime_id() -> None:
    offenders = []
    for path in NODE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "id" and len(node.args) == 1
                    and isinstance(node.args[0], ast.Name) and node.args[0].id in {"rt", "runtime"}):
                offenders.append(f"{path.relative_to(NODE)}:{node.lineno}")
    assert offenders == []
