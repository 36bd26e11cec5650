"""Which executor a party's heavy maps run on: one typed setting, one factory."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coalition.compute.pool import ProcessExecutor
from coalition.compute.ray_executor import RayExecutor

__all__ = ["ComputeSpec", "make_executor"]


class ComputeSpec(BaseModel):
    """``local``: a process pool of ``workers`` (1 runs inline, the default); ``ray``: Ray
    tasks, on a local Ray of ``workers`` CPUs or on the cluster at ``ray_address``
    (``ray://head:10001`` or ``auto``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: Literal["local", "ray"] = "local"
    workers: int = Field(default=1, ge=1, le=4096)
    ray_address: str | None = Field(default=None, max_length=512)


def make_executor(spec: ComputeSpec) -> ProcessExecutor | RayExecutor:
    """The executor ``spec`` names; call its ``shutdown()`` when the work is done."""
    if spec.backend == "ray":
        return RayExecutor(spec.workers, address=spec.ray_address)
    return ProcessExecutor(spec.workers)
