"""One party's role of one task: the code every runner shares.

:class:`~coalition.engine.standalone.StandaloneRunner` calls :func:`run_role` in one thread per
party on the in-memory hub; a node's worker process (:mod:`coalition.engine.worker`) calls it
once, over gRPC. Either way the component sees a :class:`~coalition.components.TaskContext`
namespaced ``task/<name>`` and must return exactly the outputs it declares for the role.
"""

from __future__ import annotations

from collections.abc import Mapping

from coalition.components import Artifact, Environment, TaskContext, kind_of
from coalition.core.context import Context
from coalition.core.errors import ProtocolError
from coalition.core.ids import Party
from coalition.engine.validate import TaskNode

__all__ = ["expected_outputs", "run_role"]


def expected_outputs(node: TaskNode, party: Party) -> set[str]:
    """The outputs ``party`` must produce in ``node``."""
    return {name for name, out in node.component.outputs.items()
            if party.role in out.roles and (out.requires is None
                                            or out.requires in node.inputs)}


def run_role(node: TaskNode, party: Party, inputs: Mapping[str, Artifact],
             env: Environment, comm: Context) -> dict[str, Artifact]:
    """Run ``party``'s role of ``node`` and check it returned exactly its declared outputs
    (standalone threads and node worker processes alike)."""
    ctx = TaskContext(comm.sub("task").sub(node.name), node.name, node.params[party],
                      inputs, env)
    outputs = dict(node.component().run(ctx))
    want = expected_outputs(node, party)
    if set(outputs) != want:
        raise ProtocolError("component returned other outputs than it declares",
                            task=node.name, party=str(party), expected=sorted(want),
                            got=sorted(outputs))
    for name, artifact in outputs.items():
        if kind_of(artifact) is not node.component.outputs[name].kind:
            raise ProtocolError("output of the wrong kind", task=node.name, output=name)
    return outputs
