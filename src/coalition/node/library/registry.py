"""The model library on one node: versions by name, this node's part on disk, verified loads.

A version records the job, DAG hash, parameters, metrics and every party's part (organisation,
role, digest: SHA-256, or SM3 on a node of the ``sm`` crypto suite, its algorithm recorded);
the node stores only its own part, in ``home/models/<name>/<version>/``. Every
load (deploy, offline prediction, ``verify``) recomputes the digest and checks the signature,
and writes the outcome to the audit trail: ``model.verified``, or the ``model.tampered`` alert
(committed even though the load then fails).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coalition.components import ModelPart
from coalition.core import codec
from coalition.core.errors import ConflictError, InputError, NotFoundError
from coalition.core.ids import Role
from coalition.crypto.suite import digest_alg
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.db.types import utcnow
from coalition.node.library.integrity import (
    ModelTampered,
    check_part,
    part_digest,
    sign_part,
)
from coalition.node.library.tables import ModelVersionRow, ServiceRow
from coalition.node.runtime import NodeRuntime
from coalition.node.signing import signing_key

__all__ = [
    "compare",
    "delete_version",
    "digest_alg_of",
    "encode_part",
    "get_version",
    "list_versions",
    "load_verified",
    "next_version",
    "part_digest_of",
    "partner_model",
    "publish_local",
    "published_name",
    "set_protection",
    "subject",
    "view",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SEP = ":"  # in no model or organisation name, so ``<partner>:<name>`` cannot be forged
_PARTNERS_DIR = "_partners"  # not a valid model name: no clash with this node's own folders


def partner_model(partner: str, name: str) -> str:
    """The local name of model ``name`` published here by ``partner``: ``<partner>:<name>``.

    A partner's parts live in its own namespace, so it can neither overwrite nor shadow this
    node's own models or another partner's, whatever name and version it sends.
    """
    if not _NAME.match(partner) or not _NAME.match(name):
        raise InputError("model and organisation names are letters, digits, _ . - (max 64)")
    return f"{partner}{_SEP}{name}"


def published_name(partner: str, local: str) -> str:
    """The name ``partner`` published under, from the local name ``<partner>:<name>``."""
    owner, sep, plain = local.rpartition(_SEP)
    if not sep or owner != partner:
        raise InputError("this model was not published by the partner", model=local)
    return plain


def _folder(rt: NodeRuntime, name: str, version: int) -> Path:
    partner, sep, plain = name.rpartition(_SEP)
    if sep:
        return _models_dir(rt) / _PARTNERS_DIR / partner / plain / str(version)
    return _models_dir(rt) / name / str(version)


def subject(name: str, version: int) -> str:
    """The audit subject of a model version."""
    return f"model:{name}:{version}"


def encode_part(part: ModelPart) -> bytes:
    """The stored bytes of a part: the wire codec's allow-listed form (never pickle)."""
    return codec.encode(part.stored())


def digest_alg_of(rt: NodeRuntime) -> str:
    """The digest algorithm of the parts this node publishes: its crypto suite's hash."""
    return digest_alg(rt.settings.crypto_suite)


def part_digest_of(part: ModelPart, alg: str = "sha256") -> str:
    """The ``alg`` digest of the stored form of ``part``."""
    return part_digest(encode_part(part), alg)


def _models_dir(rt: NodeRuntime) -> Path:
    return (rt.settings.home / "models").resolve()


def next_version(db: Session, name: str) -> int:
    """One more than the newest version of ``name`` here (1 for a new model)."""
    newest = db.scalar(select(func.max(ModelVersionRow.version))
                       .where(ModelVersionRow.name == name))
    return int(newest or 0) + 1


def publish_local(rt: NodeRuntime, db: Session, actor: str, *, name: str, version: int,
                  part: ModelPart, guest: str, parties: list[dict[str, Any]],
                  meta: dict[str, Any], protected: bool = True) -> ModelVersionRow:
    """Store this node's ``part`` of ``name`` ``version`` (digest, signature if protected);
    ``name`` is a plain name, or ``<partner>:<name>`` for a part a partner published here."""
    partner, sep, plain = name.rpartition(_SEP)
    if not _NAME.match(plain) or (sep and not _NAME.match(partner)):
        raise InputError("model names are letters, digits, _ . - (max 64)")
    if db.scalars(select(ModelVersionRow.id).where(
            ModelVersionRow.name == name, ModelVersionRow.version == version)).first():
        raise ConflictError("model version already exists here", model=name, version=version)
    blob = encode_part(part)
    alg = digest_alg_of(rt)
    sha = part_digest(blob, alg)
    folder = _folder(rt, name, version)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part.msgpack").write_bytes(blob)
    key = signing_key(rt.settings)
    own = {"org": rt.name, "role": part.role.value, "sha256": sha,
           **({} if alg == "sha256" else {"digest_alg": alg})}
    row = ModelVersionRow(
        name=name, version=version, component=part.component, role=part.role.value,
        guest=guest, job_id=meta.get("job_id"), task=meta.get("task"),
        dag_hash=meta.get("dag_hash"), params=dict(meta.get("params") or {}),
        metrics=dict(meta.get("metrics") or {}), description=str(meta.get("description") or ""),
        parties=[p for p in parties if p.get("org") != rt.name] + [own],
        part_file=str(folder.relative_to(rt.settings.home.resolve()) / "part.msgpack"),
        part_sha256=sha, part_digest_alg=alg, protected=protected,
        part_signature=sign_part(key, name, version, org=rt.name, role=part.role.value,
                                 sha256=sha, alg=alg) if protected else None,
        part_signer=key.verify_key.to_bytes().hex() if protected else None,
        created_by=actor, created_at=utcnow())
    db.add(row)
    db.flush()
    emit(db, Event(EventKind.MODEL_PUBLISHED, actor, subject(name, version),
                   {"component": part.component, "role": part.role.value, "sha256": sha,
                    "digest_alg": alg,
                    "job_id": row.job_id, "task": row.task, "protected": protected}))
    return row


def list_versions(db: Session, name: str | None = None) -> list[ModelVersionRow]:
    """Every version here (of ``name``), by name then version."""
    query = select(ModelVersionRow).order_by(ModelVersionRow.name, ModelVersionRow.version)
    if name is not None:
        query = query.where(ModelVersionRow.name == name)
    return list(db.scalars(query).all())


def get_version(db: Session, name: str, version: int | None = None) -> ModelVersionRow:
    """One version (the newest when ``version`` is None)."""
    query = select(ModelVersionRow).where(ModelVersionRow.name == name)
    if version is not None:
        query = query.where(ModelVersionRow.version == version)
    row = db.scalars(query.order_by(ModelVersionRow.version.desc())).first()
    if row is None:
        raise NotFoundError("no such model version", model=name, version=version)
    return row


def _part_path(rt: NodeRuntime, row: ModelVersionRow) -> Path:
    return rt.settings.home.resolve() / row.part_file


def delete_version(rt: NodeRuntime, db: Session, actor: str, name: str, version: int) -> None:
    """Delete a version and its part file; refused while a service uses it."""
    row = get_version(db, name, version)
    used = db.scalars(select(ServiceRow.name).where(ServiceRow.model_version_id == row.id)).all()
    if used:
        raise ConflictError("model version is deployed; undeploy it first", model=name,
                            version=version, services=sorted(used))
    db.delete(row)
    emit(db, Event(EventKind.MODEL_DELETED, actor, subject(name, version)))
    db.flush()
    shutil.rmtree(_part_path(rt, row).parent, ignore_errors=True)


def _verify(rt: NodeRuntime, row: ModelVersionRow) -> bytes:
    try:
        blob = _part_path(rt, row).read_bytes()
    except OSError as exc:
        raise ModelTampered("model part file is missing or unreadable", model=row.name,
                            version=row.version) from exc
    check_part(blob, expected_sha256=row.part_sha256, signature=row.part_signature,
               signer=row.part_signer, key=signing_key(rt.settings).verify_key,
               name=row.name, version=row.version, org=rt.name, role=row.role,
               digest_alg=row.part_digest_alg)
    return blob


def _alert(rt: NodeRuntime, actor: str, row: ModelVersionRow, exc: ModelTampered,
           purpose: str) -> None:
    with rt.db.session() as db:
        emit(db, Event(EventKind.MODEL_TAMPERED, actor, subject(row.name, row.version),
                       {"reason": exc.message, "purpose": purpose, "severity": "alert"}))


def load_verified(rt: NodeRuntime, actor: str, name: str, version: int | None,
                  purpose: str) -> tuple[ModelVersionRow, ModelPart]:
    """The node's own part of a version, after checking digest and signature (audited)."""
    with rt.db.session() as db:
        row = get_version(db, name, version)
        db.expunge(row)
    try:
        blob = _verify(rt, row)
    except ModelTampered as exc:
        _alert(rt, actor, row, exc, purpose)
        raise
    with rt.db.session() as db:
        emit(db, Event(EventKind.MODEL_VERIFIED, actor, subject(row.name, row.version),
                       {"purpose": purpose, "sha256": row.part_sha256,
                        "signed": row.part_signature is not None}))
    return row, ModelPart.from_stored(codec.decode(blob), Role(row.role))


def set_protection(rt: NodeRuntime, actor: str, name: str, version: int,
                   enabled: bool) -> ModelVersionRow:
    """Turn tamper protection on (verify the digest, then sign) or off (drop the signature)."""
    if enabled:  # verified before the write, so the alert is its own transaction, not nested
        with rt.db.session() as db:
            stored = get_version(db, name, version)
            db.expunge(stored)
        try:
            _verify(rt, stored)
        except ModelTampered as exc:
            _alert(rt, actor, stored, exc, "protect")
            raise
    with rt.db.session() as db:
        row = get_version(db, name, version)
        if enabled:
            if row.part_sha256 != stored.part_sha256:  # replaced meanwhile: verify it again
                raise ModelTampered("model part changed while being protected", model=name,
                                    version=version)
            key = signing_key(rt.settings)
            row.part_signature = sign_part(key, row.name, row.version, org=rt.name, role=row.role,
                                           sha256=row.part_sha256,
                                           alg=row.part_digest_alg or "sha256")
            row.part_signer = key.verify_key.to_bytes().hex()
        else:
            row.part_signature = row.part_signer = None
        row.protected = enabled
        emit(db, Event(EventKind.MODEL_PROTECTION_CHANGED, actor, subject(name, version),
                       {"protected": enabled}))
        return row


def view(row: ModelVersionRow) -> dict[str, Any]:
    """A version as the owner's users see it (no file path)."""
    return {"name": row.name, "version": row.version, "component": row.component,
            "role": row.role, "guest": row.guest, "job_id": row.job_id, "task": row.task,
            "dag_hash": row.dag_hash, "params": row.params, "metrics": row.metrics,
            "parties": row.parties, "description": row.description,
            "sha256": row.part_sha256, "digest_alg": row.part_digest_alg or "sha256",
            "protected": row.protected,
            "signer": row.part_signer, "created_by": row.created_by,
            "created_at": row.created_at}


def compare(a: ModelVersionRow, b: ModelVersionRow) -> dict[str, Any]:
    """What differs between two versions: parameters, metrics (with deltas), parts."""
    params = {k: [a.params.get(k), b.params.get(k)]
              for k in sorted(set(a.params) | set(b.params)) if a.params.get(k) != b.params.get(k)}
    metrics: dict[str, dict[str, Any]] = {}
    for k in sorted(set(a.metrics) | set(b.metrics)):
        va, vb = a.metrics.get(k), b.metrics.get(k)
        delta = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        metrics[k] = {"a": va, "b": vb, "delta": delta}
    return {"name": a.name, "a": a.version, "b": b.version, "params": params,
            "metrics": metrics, "component": [a.component, b.component],
            "job_id": [a.job_id, b.job_id], "dag_hash": [a.dag_hash, b.dag_hash],
            "same_part": a.part_sha256 == b.part_sha256}
