"""Run one component's roles on the in-memory hub, as the engine would."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from coalition.components import Artifact, Component, Environment, TaskContext
from coalition.core import Channel, Context, Party
from coalition.testing import run_parties

RunComponent = Callable[..., dict[Party, dict[str, Artifact]]]


@pytest.fixture
def run_component() -> RunComponent:
    """``run_component(cls, params_by_party, inputs_by_party, wrap=None)`` -> outputs."""

    def run(cls: type[Component], params: Mapping[Party, Mapping[str, Any]],
            inputs: Mapping[Party, Mapping[str, Artifact]],
            wrap: Callable[[Channel], Channel] | None = None,
            env: Environment | None = None) -> dict[Party, dict[str, Artifact]]:
        def role(party: Party) -> Callable[[Context], dict[str, Artifact]]:
            def main(ctx: Context) -> dict[str, Artifact]:
                tctx = TaskContext(ctx, "t", cls.parse_params(params[party]),
                                   inputs.get(party, {}), env or Environment())
                return dict(cls().run(tctx))
            return main

        return run_parties({p: role(p) for p in params}, wrap=wrap, timeout=60)

    return run
