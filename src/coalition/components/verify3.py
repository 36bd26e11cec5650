"""``verify3``: private three-element verification (三要素核验) of the guest's (phone, name,
ID number) triples against the host's records (the telco's table).

Wraps :mod:`coalition.protocols.verify3` (keyword PIR from an OPRF with keyed match tags). Who
learns what is the protocol's: the guest learns, per row, whether the host has a record for the
phone and whether that record's name and ID number equal its own, plus the host's record count;
the host learns the padded batch size only, and each party's output stays with it. Each party
names its own columns (party blocks may differ). The guest's output keeps its ID column and
adds ``phone_found``, ``name_match``, ``id_match`` (0/1) in its row order; the host outputs
metrics only. In a job, the host's consent (a grant naming ``verify3`` on the table) takes the
place of the node service's quota; the service (``node/verify3``) meters every evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from pydantic import Field

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.protocols.verify3 import VerificationTable, Verify3Params, run_bank, run_telco

__all__ = ["FLAG_COLUMNS", "Verify3", "Verify3ComponentParams"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})
FLAG_COLUMNS = ("phone_found", "name_match", "id_match")


class Verify3ComponentParams(Verify3Params):
    """:class:`~coalition.protocols.verify3.Verify3Params` plus this party's column names."""

    phone_column: str = Field("phone", min_length=1, description="column of phone numbers")
    name_column: str = Field("name", min_length=1, description="column of names")
    id_number_column: str = Field("id_number", min_length=1,
                                  description="column of ID numbers")


def _triples(data: Dataset, p: Verify3ComponentParams) -> list[tuple[str, str, str]]:
    cols = [p.phone_column, p.name_column, p.id_number_column]
    missing = [c for c in cols if c not in data.frame.columns]
    if missing:
        raise InputError("verify3 columns missing", columns=missing)
    frame = data.frame[cols].astype(str)
    return list(frame.itertuples(index=False, name=None))


@register
class Verify3(Component):
    """The guest learns per element whether the host's record for the phone matches."""

    name = "verify3"
    version = "1.0.0"
    description = ("Private three-element verification: per row, does the partner's record for "
                   "this phone have this name and this ID number (nothing else is learnt).")
    Params = Verify3ComponentParams
    roles = _PARTIES
    required_roles = _PARTIES
    inputs = slots(data=Input(ArtifactKind.DATASET, _PARTIES,
                              doc="guest: triples to verify; host: its records"))
    outputs = slots(
        data=Output(ArtifactKind.DATASET, frozenset({Role.GUEST}),
                    doc="the guest's IDs with phone_found, name_match, id_match"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="batch sizes and match counts"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Run this party's role on its three columns."""
        data = ctx.dataset("data")
        p = ctx.params_as(Verify3ComponentParams)
        triples = _triples(data, p)
        proto = Verify3Params.parse(p.model_dump(include=set(Verify3Params.model_fields)))
        if ctx.role is Role.HOST:
            table = VerificationTable.build(triples, suite=p.suite, country=p.phone_country,
                                            executor=ctx.comm.executor)
            served = run_telco(ctx.comm, table)
            return {"metrics": Metrics({"records": float(table.rows),
                                        "padded_elements": float(served["padded_elements"])})}
        result = run_bank(ctx.comm, triples, proto)
        flags = pd.DataFrame([(f.phone_found, f.name_match, f.id_match) for f in result.flags],
                             columns=list(FLAG_COLUMNS), dtype="int64")
        out = pd.concat([data.frame[[data.id_column]].reset_index(drop=True), flags], axis=1)
        counts = {f"{c}_count": float(flags[c].sum()) for c in FLAG_COLUMNS}
        return {"data": Dataset(out, data.id_column),
                "metrics": Metrics({"triples": float(len(triples)),
                                    "telco_records": float(result.manifest.rows), **counts})}
