"""Dataset outputs of a task become *derived datasets* on the node of the party that made them.

A derived dataset is an ordinary registered dataset (kind ``parquet``) pointing at the stored
artifact, named ``<task>.<output>.<key12>`` after the cache key that produced it — so the same
output, reused by a rerun, is registered once. Later jobs read it with the reader
(``path: <name>``) and skip the PSI or preprocessing that produced it; sharing and grants work
as for any dataset. Registration is audited like any other (``dataset.registered``).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.components import ArtifactKind
from coalition.core.errors import InputError
from coalition.core.ids import Party
from coalition.engine.store import ArtifactStore
from coalition.node.data import reading
from coalition.node.data.datasets import register_dataset
from coalition.node.data.tables import Dataset

__all__ = ["derived_name", "register_outputs"]


def derived_name(task: str, output: str, key: str) -> str:
    """The registered name of one dataset output (at most 64 characters)."""
    return f"{task}.{output}"[:51] + f".{key[:12]}"


def register_outputs(db: Session, job_id: str, task: str, party: Party, *,
                     store: ArtifactStore, key: str) -> list[str]:
    """Register each dataset output of ``task`` stored under ``key``; return the new names."""
    added: list[str] = []
    for output, stored in store.manifest(task, key).items():
        if stored.kind is not ArtifactKind.DATASET:
            continue
        name = derived_name(task, output, key)
        if db.scalars(select(Dataset.id).where(Dataset.name == name)).first() is not None:
            continue
        path = store.root / task / key / stored.file
        id_column = str(stored.extra["id_column"])
        label = stored.extra.get("label_column")
        try:
            inspection = reading.inspect_frame(pd.read_parquet(path), id_column,
                                                  None if label is None else str(label))
        except (InputError, OSError, ValueError):
            continue  # not a registrable table (say, predictions without unique IDs)
        register_dataset(db, f"job:{job_id}", name, kind="parquet", location=str(path),
                         table=None, id_column=id_column,
                         label_column=None if label is None else str(label),
                         description=f"derived: job {job_id}, task {task}, output {output}, "
                                     f"party {party}", inspection=inspection)
        added.append(name)
    return added
