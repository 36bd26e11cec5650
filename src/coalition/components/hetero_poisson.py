"""``hetero_poisson``: vertical Poisson regression with exposure (the insurer's claims model).

Wraps :mod:`coalition.protocols.linear` with ``task: poisson`` (log link,
``μ = exposure·exp(w·x)``); ``protocol`` selects the variant, as ``hetero_lr``'s does:

* ``he-arbiter`` (the default): the host sends ``[[exp(u_h)]]`` and ``[[u_h]]`` under the
  arbiter's key, the guest multiplies in its own ``exposure·exp(u_g)`` (FATE 2.x's hetero
  Poisson decomposition), every party computes its encrypted gradient and the arbiter decrypts
  it masked. Exactly one host (``exp`` of two hosts' scores would need a product of two
  ciphertexts).
* ``ss``: additive secret sharing (:mod:`coalition.protocols.linear.ss.poisson`): the score
  stays shared, the guest adds its log-exposures to its share, ``exp`` is CrypTen's limit
  approximation by Beaver squarings; the arbiter deals (or the guest, without one); any number
  of hosts; the share PRG follows the federation's ``suite``.

Who learns what (``docs/hetero_poisson.md``): the guest learns the epoch's mean Poisson
deviance, nobody another party's features, weights or scores, the hosts nothing about counts or
exposures. Either variant ends with the same model parts, so ``predict``, publishing and online
serving do not depend on it; ``predict`` gives rates per unit of exposure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field

from coalition.components.artifacts import Artifact, Dataset, Metrics, ModelPart
from coalition.components.base import TaskContext
from coalition.components.hetero_lr import HeteroLR
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.protocols.linear import LinearParams, PartyTable, coordinator, data_role

__all__ = ["HeteroPoisson", "PoissonParams", "poisson_table"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
_ALL = _PARTIES | {Role.ARBITER}


class PoissonParams(LinearParams):
    """:class:`~coalition.protocols.linear.LinearParams` for Poisson regression."""

    task: Literal["poisson"] = Field("poisson", description="poisson regression (log link)")
    protocol: Literal["he-arbiter", "ss"] = Field("he-arbiter", description=(
        "he-arbiter (Paillier, the arbiter holds the key; one host) or ss (secret sharing, "
        "secure exp; the arbiter deals, or the guest without one)"))
    exposure_column: str | None = Field(None, description=(
        "guest only: a column of exposures (> 0, e.g. policy years); None = exposure 1"))


def poisson_table(data: Dataset, exposure_column: str | None) -> PartyTable:
    """A party's table; the guest's exposure column (if any) is taken out of the features."""
    names = [c for c in data.features if c != exposure_column]
    try:
        x = data.frame[names].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("non-numeric feature column") from exc
    labels = data.labels() if data.label_column is not None else None
    exposure = None
    if exposure_column is not None and labels is not None:
        if exposure_column not in data.frame.columns:
            raise InputError("exposure column not in the data", column=exposure_column)
        exposure = data.frame[exposure_column].to_numpy(dtype=np.float64)
    return PartyTable.from_arrays(data.ids(), x, labels, names, exposure)


@register
class HeteroPoisson(HeteroLR):
    """Vertical Poisson regression (``he-arbiter`` with one host, or ``ss``)."""

    name = "hetero_poisson"
    version = "1.0.0"
    description = ("Vertical Poisson regression with exposure (Paillier with the key at the "
                   "arbiter, or secret sharing).")
    Params = PoissonParams

    @classmethod
    def default_roles(cls, raw_params: Mapping[str, Any]) -> frozenset[Role]:
        """Guest, host and the arbiter (key holder, or dealer for ``ss``)."""
        return _ALL

    @classmethod
    def roles_needed(cls, raw_params: Mapping[str, Any]) -> frozenset[Role]:
        """``he-arbiter`` needs the arbiter (it holds the key); ``ss`` runs without one (the
        guest deals, which the hosts' grants must allow)."""
        return _PARTIES if raw_params.get("protocol") == "ss" else _ALL

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Train this party's role; the guest's table carries the exposures."""
        p = ctx.params_as(PoissonParams)
        params = LinearParams.parse(p.model_dump(exclude={"exposure_column"}))
        if ctx.role is Role.ARBITER:
            coordinator(params).fit(ctx.comm)
            return {}
        table = poisson_table(ctx.dataset("train_data"), p.exposure_column)
        est = data_role(params, ctx.role).fit(ctx.comm, table)
        artifact = est.model_.to_artifact()
        if ctx.role is Role.GUEST and p.exposure_column is not None:
            # predict multiplies rates by this column, where the scored data has it
            artifact["meta"]["exposure_column"] = p.exposure_column
        out: dict[str, Artifact] = {"model": ModelPart(self.family(), ctx.role, artifact)}
        if ctx.role is Role.GUEST:
            loss = list(est.history_.loss)
            out["metrics"] = Metrics({"epochs": float(est.history_.epochs),
                                      **({"mean_deviance": float(loss[-1])} if loss else {})})
        return out
