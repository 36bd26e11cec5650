"""``hetero_lr_contribution``: each data party's exact Shapley value in a vertical job.

Party-level Shapley (Shapley 1953; :func:`coalition.protocols.contribution.exact_shapley`)
over the guest and up to five hosts (at most :data:`MAX_PARTIES` = 6 parties), with the
utility ``v(S)`` = the test AUC of ``hetero_lr`` *retrained* on coalition ``S``:

* for every subset ``T`` of the hosts, the guest, the hosts in ``T`` (and the arbiter when the
  protocol uses one) run the ``hetero_lr`` protocol with the job's parameters, restricted to
  those parties (hosts outside ``T`` sit the round out), then score ``test_data`` with the
  ``predict`` protocol; the guest computes the AUC;
* ``T = ∅`` (the guest alone): a logistic regression on the guest's own columns, trained
  locally with the job's schedule and the protocol's plaintext optimizer — nothing is sent;
* a coalition without the guest has no labels, so ``v(S) = 0.5`` (a constant score).

**Cost**: ``2^h`` trainings and predictions for ``h`` hosts (32 for five hosts), each a full
``hetero_lr`` run; the time is about ``2^h`` × one training on the job's rows.

**Who learns what**: each coalition's run reveals what a ``hetero_lr`` job of those parties
reveals (``docs/linear.md``), and the same privacy policy rules apply (this component is one
of ``engine.policy``'s linear components). In addition the guest learns the test AUC of each
coalition's model — which, for a one-host coalition, is that host's joint model with the guest.
Hosts learn nothing new. The output is the guest's ``contributions`` report (scores,
leave-one-out, every coalition's AUC, the cost); its node writes it to the federation log
(``coalition job contributions``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Report
from coalition.components.base import Input, Output, TaskContext, slots
from coalition.components.hetero_lr import HeteroLR, party_table
from coalition.components.registry import register
from coalition.core import Context, Party
from coalition.core.errors import ConfigError, InputError
from coalition.core.ids import Role
from coalition.crypto.suite import CryptoSuite, digest_alg, hexdigest
from coalition.protocols.contribution import exact_shapley, leave_one_out
from coalition.protocols.horizontal.models.metrics import roc_auc
from coalition.protocols.linear import (
    LinearModelPart,
    LinearParams,
    coordinator,
    data_role,
    predict_guest,
    predict_host,
)
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.optim import PlainOptimizer

__all__ = ["MAX_PARTIES", "NO_MODEL_AUC", "HeteroLRContribution"]

MAX_PARTIES = 6
NO_MODEL_AUC = 0.5

_PARTIES = frozenset({Role.GUEST, Role.HOST})


class _Subset:
    """A channel restricted to some of the job's parties (one coalition's run)."""

    def __init__(self, inner: Any, parties: Sequence[Party]) -> None:
        self._inner, self._parties = inner, list(parties)

    @property
    def party(self) -> Party:
        return self._inner.party  # type: ignore[no-any-return]

    @property
    def parties(self) -> Sequence[Party]:
        return self._parties

    def send(self, to: Party, key: str, payload: bytes) -> None:
        self._inner.send(to, key, payload)

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        return self._inner.recv(frm, key, timeout)  # type: ignore[no-any-return]


def _within(ctx: Context, parties: Sequence[Party], name: str) -> Context:
    base = ctx.sub(name)
    return Context(_Subset(ctx.channel, parties), namespace=base.namespace,
                   executor=ctx.executor, metrics=ctx.metrics, timeout=ctx.timeout,
                   max_bytes=ctx.max_bytes)


def _name(coalition: frozenset[Party] | Sequence[Party]) -> str:
    return "+".join(sorted(str(p) for p in coalition)) or "none"


@register
class HeteroLRContribution(HeteroLR):
    """Exact party-level Shapley of a vertical logistic regression (see the module)."""

    name = "hetero_lr_contribution"
    version = "1.0.0"
    description = ("Each party's exact Shapley value in vertical LR: hetero_lr retrained on "
                   "every coalition of hosts (2^hosts runs), scored by test AUC.")
    Params = LinearParams
    inputs = slots(
        train_data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned training rows"),
        test_data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned rows to score (AUC)"),
    )
    outputs = slots(
        contributions=Output(ArtifactKind.REPORT, frozenset({Role.GUEST}),
                             doc="Shapley, leave-one-out and every coalition's AUC"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Every party takes part in each coalition it belongs to; the guest reports."""
        comm = ctx.comm
        hosts = comm.hosts
        if len(hosts) + 1 > MAX_PARTIES:
            raise ConfigError("exact party-level Shapley is limited to six parties",
                              parties=len(hosts) + 1, limit=MAX_PARTIES)
        params = ctx.params_as(LinearParams)
        arbiter = comm.arbiter
        values: dict[frozenset[Party], float] = {}
        teams = [frozenset(t) for k in range(1, len(hosts) + 1)
                 for t in itertools.combinations(hosts, k)]
        if ctx.role is Role.GUEST:
            values[frozenset()] = self._alone(ctx)
        for index, team in enumerate(teams):
            members = sorted({comm.guest, *team, *([arbiter] if arbiter else [])})
            if comm.party not in members:
                continue
            fit = _within(comm, members, f"coalition{index}")
            if ctx.role is Role.ARBITER:
                coordinator(params).fit(fit)
                continue
            train = party_table(ctx.dataset("train_data"))
            model = data_role(params, ctx.role).fit(fit, train).model_
            part = LinearModelPart.from_artifact(model.to_artifact())
            test = ctx.dataset("test_data")
            score = _within(comm, [comm.guest, *sorted(team)], f"score{index}")
            if ctx.role is Role.HOST:
                predict_host(score, part, party_table(test),
                             min_features=ctx.env.policy_min_serving_features)
                continue
            values[team] = _auc(test, predict_guest(score, part, party_table(test)))
        if ctx.role is not Role.GUEST:
            return {}
        report = _report(comm.guest, hosts, values)
        report["inputs"] = {f"{name}_ids_sha256": _ids_digest(ctx.dataset(slot), params.suite)
                            for name, slot in (("train", "train_data"), ("test", "test_data"))}
        if digest_alg(params.suite) != "sha256":  # standard reports keep their exact bytes
            report["inputs"]["digest_alg"] = digest_alg(params.suite)
        return {"contributions": Report(report)}

    @staticmethod
    def _alone(ctx: TaskContext) -> float:
        """The guest's own logistic regression, trained locally (nothing is sent)."""
        return _local_auc(ctx.params_as(LinearParams), ctx.dataset("train_data"),
                          ctx.dataset("test_data"))


def _ids_digest(data: Dataset, suite: CryptoSuite) -> str:
    """The suite's hash (SHA-256, or SM3 under ``sm``) of the sorted row IDs: the federation
    log names the rows a score used, not the IDs."""
    text = "".join(f"{i}\n" for i in sorted(data.ids()))
    return hexdigest(text.encode(), suite)


def _auc(test: Dataset, scores: Any) -> float:
    labels = party_table(test).labels
    if labels is None:
        raise InputError("the guest's test_data needs its label column")
    auc = roc_auc(np.asarray(labels), np.asarray(scores))
    return NO_MODEL_AUC if auc is None else float(auc)


def _local_auc(params: LinearParams, train: Dataset, test: Dataset) -> float:
    """The guest's own model, trained locally with the job's schedule (epochs, batches,
    optimizer, penalty: the protocol's plaintext optimizer) so it compares with the
    federated coalitions' models; logistic task only."""
    table, scored = party_table(train), party_table(test)
    if table.labels is None or scored.labels is None:
        raise InputError("the guest's train_data and test_data need the label column")

    def design(x: Any) -> Any:
        return np.hstack([x, np.ones((len(x), 1))]) if params.fit_intercept else x

    z, y = design(table.features), np.asarray(table.labels, dtype=np.float64)
    mask = np.ones(z.shape[1])
    if params.fit_intercept:
        mask[-1] = 0.0
    w, opt = np.zeros(z.shape[1]), PlainOptimizer(params, mask)
    for epoch in range(params.epochs):
        lr = params.learning_rate / (1.0 + params.decay * epoch)
        for rows in batches(len(y), params, epoch):
            p = 1.0 / (1.0 + np.exp(-z[rows] @ w))
            w = opt.step(w, z[rows].T @ (p - y[rows]) / len(rows), lr)
    auc = roc_auc(np.asarray(scored.labels), design(scored.features) @ w)
    return NO_MODEL_AUC if auc is None else float(auc)


def _report(guest: Party, hosts: Sequence[Party],
            values: Mapping[frozenset[Party], float]) -> dict[str, Any]:
    players = [str(guest), *(str(h) for h in hosts)]
    by_name = {_name(team): auc for team, auc in values.items()}

    def v(s: frozenset[str]) -> float:
        if str(guest) not in s:
            return NO_MODEL_AUC
        return by_name[_name([Party.parse(p) for p in s if p != str(guest)])]

    return {
        "method": "vertical.party_shapley", "utility": "auc",
        "scores": exact_shapley(players, v), "leave_one_out": leave_one_out(players, v),
        "values": {(_name(t) if t else "guest_alone"): auc for t, auc in values.items()},
        "cost": f"{2 ** len(hosts) - 1} federated hetero_lr trainings and predictions, one "
                f"local training at the guest (2^{len(players)} coalitions)",
    }
