"""Offline (batch) inference: score a registered dataset on every party and write the
guest's results as a derived dataset (Parquet under ``home/data/predictions/``).

Same split as online inference (:mod:`.scoring`): each host binds the job to its part and a
registered dataset of its own (needs an approved ``predict`` grant), answers partial results
for chunks of IDs, and forgets the binding at the end. The output has the predict component's
columns (ID, label if the guest's dataset has one, ``score``), so it downloads as CSV or
Parquet like any prediction.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from coalition.components import Dataset as Table
from coalition.components.predict import predictions_frame
from coalition.core.errors import CoalitionError, ConflictError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.data import datasets, reading
from coalition.node.data.tables import Dataset as DatasetRow
from coalition.node.library import registry
from coalition.node.runtime import NodeRuntime
from coalition.node.serving.features import IndexSource
from coalition.node.serving.peer_methods import SERVING_PARTIAL, PartialRequest
from coalition.node.serving.scoring import guest_scorer
from coalition.node.serving.service import guest_rows, prepare_hosts, release_hosts

__all__ = ["CHUNK", "predictions_dir", "run_offline"]

CHUNK = 4096


def predictions_dir(rt: NodeRuntime) -> Path:
    """Where derived prediction datasets are written (inside the node's data folder)."""
    return (rt.settings.home / "data" / "predictions").resolve()


def run_offline(rt: NodeRuntime, actor: str, *, model: str, version: int | None, dataset: str,
                hosts: dict[str, str], output: str) -> dict[str, Any]:
    """Score every row of the guest's ``dataset``; register the result as ``output``."""
    with rt.db.session() as db:
        ds = datasets.get_dataset(db, dataset)
        db.expunge(ds)
        if db.scalars(select(DatasetRow.id).where(DatasetRow.name == output)).first():
            raise ConflictError("dataset name already registered", name=output)
    row, part = registry.load_verified(rt, actor, model, version, "offline_predict")
    scorer = guest_scorer(part)
    frame = reading.load_frame(ds.kind, ds.location, ds.table, ds.id_column)
    ids = [str(v) for v in frame[ds.id_column].tolist()]
    lookup = IndexSource(ds).bind(scorer.feature_names, categories=scorer.categories)
    X, _ = guest_rows(scorer, lookup, ids, None)
    job = f"offline-{secrets.token_hex(6)}"
    bound = (prepare_hosts(rt, job, row, scorer,
                           sources={o: {"dataset": d} for o, d in hosts.items()}, transient=True) if scorer.vertical else [])
    chunks = []
    try:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            request = PartialRequest(service=job, ids=list(chunk))
            partials = {h.name: rt.peers.call(
                h, SERVING_PARTIAL, request,
                timeout_s=max(rt.settings.peer_timeout_s, 60.0)).model_dump()
                for h in bound}
            chunks.append(scorer.combine(X[start:start + len(chunk)], partials))
    finally:
        release_hosts(rt, job, bound)
    scores = np.concatenate(chunks) if chunks else np.zeros(0)
    table = Table(frame.assign(**{ds.id_column: ids}), ds.id_column, ds.label_column)
    out = predictions_frame(table, ids, scores, scorer.class_values).frame
    folder = predictions_dir(rt)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{output}.parquet"
    out.to_parquet(path, index=False)
    try:
        location, inspection = datasets.inspect_source(
            rt.settings, "parquet", str(path), table=None, id_column=ds.id_column,
            label_column=ds.label_column)
        with rt.db.session() as db:
            datasets.register_dataset(
                db, actor, output, kind="parquet", location=location, table=None,
                id_column=ds.id_column, label_column=ds.label_column,
                description=f"predictions of {row.name} v{row.version} on {dataset}",
                inspection=inspection)
            emit(db, Event(EventKind.PREDICTIONS_WRITTEN, actor, f"dataset:{output}",
                           {"model": row.name, "version": row.version, "input": dataset,
                            "rows": len(ids)}))
    except CoalitionError:
        path.unlink(missing_ok=True)
        raise
    return {"dataset": output, "rows": len(ids), "model": row.name, "version": row.version}
