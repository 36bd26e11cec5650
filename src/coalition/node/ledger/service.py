"""The federation log on a node: record entries, operate a log, witness partners' logs, verify.

**Who operates which log.** A job's records go to the log its *initiator* operates
(origin ``coalition.ledger/<initiator>``) — every party has the initiator as a partner (it
proposed the job to them) — or, when the DAG says ``ledger_operator: arbiter``, the log of the
arbiter's node (:mod:`.operator`). A node therefore operates one log (its own jobs and those it
coordinates) and witnesses the logs of the operators of the jobs it joined; a witness refuses
entries of a job its own records say another organisation operates.

**Writing.** :func:`record` signs an entry with this node's Ed25519 key
(:func:`coalition.node.signing.signing_key`); when this node is the operator the entry is
appended at once, otherwise it waits in the outbox until the operator pulls it
(``LedgerPull``) during :func:`sync`.

**Witnessing.** :func:`sync` (at a job's end, or ``POST /ledger/checkpoints``) pulls partners'
entries, signs a tree head and shows it to every witness with the entries since that
witness's own head (:func:`cosign`); a witness checks the operator's signature, the
consistency proof from the head it kept (``crypto.checkpoint.Witness``), every entry's
signature and that its own stored entries plus the new ones hash to the signed root. A head is
final once ``ledger_quorum`` witnesses (default: more than half) co-signed it. A failed check
is an alert on the witness (audit event ``ledger.alert``); while one is unacknowledged the
witness refuses new jobs with that organisation (:func:`store.refuse_if_alerted`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from coalition.core.errors import (
    CoalitionError,
    ConflictError,
    CryptoError,
    InputError,
    NotFoundError,
)
from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint, ForkDetected, Witness, count_cosignatures
from coalition.crypto.signing import SigningKey, VerifyKey
from coalition.crypto.suite import digest_alg
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.db.engine import serialise
from coalition.node.db.types import utcnow
from coalition.node.ledger import mirror, store
from coalition.node.ledger.anchor import FileAnchor
from coalition.node.ledger.entries import KINDS, Entry, audit, sign_entry
from coalition.node.ledger.errors import LedgerTampered
from coalition.node.ledger.operator import configured_operators
from coalition.node.ledger.peer_methods import (
    LEDGER_COSIGN,
    LEDGER_PULL,
    CosignAnswer,
    CosignRequest,
    PulledEntries,
    WireEntry,
)
from coalition.node.ledger.tables import LedgerAlertRow, LedgerCheckpointRow, LedgerOutboxRow
from coalition.node.peer.method import Empty
from coalition.node.runtime import NodeRuntime
from coalition.node.signing import former_verify_keys, signing_key

__all__ = ["acknowledge", "alerts", "checkpoints", "cosign", "prove", "pull", "record", "show",
           "sync", "verify"]

log = logging.getLogger(__name__)
_LOCK = "ledger"


def _key(rt: NodeRuntime) -> SigningKey:
    return signing_key(rt.settings)


def _origin_of(rt: NodeRuntime, org: str) -> str:
    """The log ``org`` operates in this federation's crypto suite (this node's)."""
    return store.origin_of(org, rt.settings.crypto_suite)


def _alg(rt: NodeRuntime) -> str:
    """The tree hash of this federation's logs: SHA-256, or SM3 under ``sm``."""
    return digest_alg(rt.settings.crypto_suite)


def _public(rt: NodeRuntime) -> str:
    return store.b64(_key(rt).verify_key.to_bytes())


def record(rt: NodeRuntime, operator: str, kind: str, body: Mapping[str, Any], *,
           job_id: str | None = None) -> None:
    """Sign an entry of ``kind`` for the log ``operator`` runs: appended here when this node
    is the operator, kept in the outbox for the operator to pull otherwise.

    Best effort by design: a failure is logged and never fails the operation being recorded
    (a missing record is visible to every witness as an absent entry, not a silent rewrite).
    """
    if not rt.settings.ledger_enabled:
        return
    try:
        entry = sign_entry(kind, rt.name, body, _key(rt))
        with rt.db.session() as db:
            serialise(db, _LOCK)
            if operator == rt.name:
                origin = _origin_of(rt, rt.name)
                if not store.has_leaf(db, origin, entry.leaf(_alg(rt))):
                    store.append(db, origin, entry, _public(rt), job_id)
            else:
                db.add(LedgerOutboxRow(operator=operator, kind=kind, job_id=job_id,
                                       body=dict(entry.body), signature=store.b64(entry.signature),
                                       leaf=entry.leaf(_alg(rt)).hex(), included=False,
                                       created_at=utcnow()))
    except (CoalitionError, SQLAlchemyError, OSError) as exc:
        log.warning("could not record a %s ledger entry: %s", kind, exc)


# --- peer handlers -----------------------------------------------------------------------


def _wire(entry: Entry, key: str, job_id: str | None) -> WireEntry:
    return WireEntry(kind=entry.kind, producer=entry.producer, job_id=job_id,
                     body=dict(entry.body), signature=store.b64(entry.signature),
                     producer_key=key)


def pull(rt: NodeRuntime, caller: str, request: Empty) -> PulledEntries:
    """``LedgerPull``: the entries this node signed for the caller's log, not yet co-signed."""
    key = _public(rt)
    with rt.db.session() as db:
        rows = db.scalars(select(LedgerOutboxRow).where(
            LedgerOutboxRow.operator == caller, LedgerOutboxRow.included.is_(False))
            .order_by(LedgerOutboxRow.id).limit(10_000))
        found = [WireEntry(kind=r.kind, producer=rt.name, job_id=r.job_id, body=r.body,
                           signature=r.signature, producer_key=key) for r in rows]
    return PulledEntries(entries=found, key=key)


def _alert(rt: NodeRuntime, operator: str, kind: str, message: str,
           evidence: Mapping[str, Any]) -> None:
    with rt.db.session() as db:
        row = LedgerAlertRow(operator=operator, kind=kind, message=message,
                             evidence=dict(evidence), created_at=utcnow(), reason="")
        db.add(row)
        db.flush()
        emit(db, Event(EventKind.LEDGER_ALERT, "system", f"ledger:{operator}",
                       {"alert": row.id, "kind": kind, "message": message}))
    log.error("federation log alert about %s: %s (%s)", operator, message, kind)


def _checked_entries(rt: NodeRuntime, wires: Iterable[WireEntry], *,
                     pinned: Mapping[str, str]) -> list[tuple[Entry, WireEntry]]:
    """Each entry's signature checked against its producer key; this node's own entries
    must carry its own key and a pinned organisation's entries its pinned key."""
    mine = _public(rt)
    out = []
    for index, wire in enumerate(wires):
        expected = mine if wire.producer == rt.name else pinned.get(wire.producer)
        if expected is not None and wire.producer_key != expected:
            raise LedgerTampered("a ledger entry names a producer with another key",
                                 index=index)
        if wire.kind not in KINDS:
            raise LedgerTampered("a ledger entry has an unknown kind", index=index)
        entry = Entry(wire.kind, wire.producer, wire.body, store.unb64(wire.signature))
        try:
            entry.verify(store.verify_key(wire.producer_key))
        except CryptoError as exc:
            raise LedgerTampered("a ledger entry's signature does not verify",
                                 index=index) from exc
        out.append((entry, wire))
    return out


def cosign(rt: NodeRuntime, caller: str, request: CosignRequest) -> CosignAnswer:
    """``LedgerCosign``: check the caller's new signed tree head from this node's own records
    and co-sign it (see the module docstring); a fork or rewrite is an alert here."""
    origin, alg = _origin_of(rt, caller), _alg(rt)
    if request.origin != origin:  # its log in this federation's suite, never another
        raise InputError("a node may only show heads of the log it operates")
    mine = _public(rt)
    with rt.db.session() as db:
        kept = store.head(db, origin, "witness")
        mirror = store.size(db, origin)
        pinned_operator = store.pinned_key(db, caller)
        pinned = {org: key for org in {w.producer for w in request.entries}
                  if (key := store.pinned_key(db, org)) is not None}
        old_leaves = store.leaves(db, origin)
        last = None if kept is None else store.checkpoint_of(kept)
    if request.from_size != mirror:
        return CosignAnswer(key=mine, need_from=mirror)
    new = Checkpoint(origin, request.size, bytes.fromhex(request.root), alg)
    evidence = {"kept": _head_view(last), "presented": _head_view(new),
                "presented_signature": request.signature}
    if pinned_operator is not None and pinned_operator != request.operator_key:
        _alert(rt, caller, "key_changed", "the operator presented another ledger key", evidence)
        raise LedgerTampered("the operator's ledger key changed")
    witness = Witness(_key(rt), store.verify_key(request.operator_key), origin, last, alg)
    try:
        cosignature = witness.cosign(new, store.unb64(request.signature),
                                     [bytes.fromhex(p) for p in request.proof])
    except ForkDetected as exc:
        _alert(rt, caller, "fork", exc.message, evidence)
        raise
    try:
        if len(request.entries) != request.size - mirror:
            raise LedgerTampered("the entries shown do not fill the signed head")
        with rt.db.session() as db:
            configured = configured_operators(db, (w.job_id for w in request.entries
                                                   if w.job_id))
        if any(op != caller for op in configured.values()):
            raise LedgerTampered("the log shows entries of a job another organisation was "
                                 "configured to operate")
        checked = _checked_entries(rt, request.entries, pinned=pinned)
        tree = merkle.MerkleTree([*old_leaves, *(e.leaf(alg) for e, _ in checked)], alg)
        if tree.root() != new.root:
            raise LedgerTampered("the entries shown do not hash to the signed root")
    except LedgerTampered as exc:
        _alert(rt, caller, "tampered", exc.message, evidence)
        raise
    with rt.db.session() as db:
        serialise(db, _LOCK)
        if store.size(db, origin) != mirror:  # another co-signature of this log won the race
            return CosignAnswer(key=mine, need_from=store.size(db, origin))
        if pinned_operator is None:
            store.pin_key(db, caller, request.operator_key)
        for entry, wire in checked:
            store.append(db, origin, entry, wire.producer_key, wire.job_id)
        db.add(LedgerCheckpointRow(origin=origin, role="witness", size=new.size,
                                   root=new.root.hex(), signature=request.signature,
                                   cosignatures={rt.name: store.b64(cosignature)}, quorum=0,
                                   final=False, created_at=utcnow()))
        own = {e.leaf(alg).hex() for e, _ in checked if e.producer == rt.name}
        if own:
            for row in db.scalars(select(LedgerOutboxRow).where(
                    LedgerOutboxRow.operator == caller, LedgerOutboxRow.leaf.in_(own))):
                row.included = True
        emit(db, Event(EventKind.LEDGER_CHECKPOINT, f"partner:{caller}", f"ledger:{caller}",
                       {"role": "witness", "size": new.size, "root": new.root.hex()}))
    return CosignAnswer(cosignature=store.b64(cosignature), key=mine)


def _head_view(cp: Checkpoint | None) -> dict[str, Any] | None:
    return None if cp is None else {"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}


# --- the operator ------------------------------------------------------------------------


def members(rt: NodeRuntime) -> list[str]:
    """The organisations this node's log names as job parties (its witnesses), itself excluded."""
    origin = _origin_of(rt, rt.name)
    with rt.db.session() as db:
        rows = store.entries(db, origin)
        orgs = {o for r in rows if r.kind == "job.dag" for o in r.body.get("orgs", [])}
    return sorted(o for o in orgs if isinstance(o, str) and o != rt.name)


def _quorum(rt: NodeRuntime, witnesses: int) -> int:
    return rt.settings.ledger_quorum or witnesses // 2 + 1


def _pull_from(rt: NodeRuntime, org: str) -> int:
    reply = rt.peers.call(org, LEDGER_PULL, Empty())
    origin = _origin_of(rt, rt.name)
    added = 0
    try:
        with rt.db.session() as db:
            serialise(db, _LOCK)
            store.pin_key(db, org, reply.key)
            wires = [w for w in reply.entries if w.producer == org and w.producer_key == reply.key]
            for entry, wire in _checked_entries(rt, wires, pinned={org: reply.key}):
                if not store.has_leaf(db, origin, entry.leaf(_alg(rt))):
                    store.append(db, origin, entry, wire.producer_key, wire.job_id)
                    added += 1
    except LedgerTampered as exc:
        _alert(rt, org, "key_changed", exc.message, {"org": org})
        raise
    return added


def _sign_head(rt: NodeRuntime, witnesses: int) -> tuple[LedgerCheckpointRow, merkle.MerkleTree]:
    origin, alg = _origin_of(rt, rt.name), _alg(rt)
    with rt.db.session() as db:
        serialise(db, _LOCK)
        tree = merkle.MerkleTree(store.leaves(db, origin), alg)
        row = store.head(db, origin, "operator")
        if row is None or row.size != tree.size:
            cp = Checkpoint(origin, tree.size, tree.root(), alg)
            row = LedgerCheckpointRow(origin=origin, role="operator", size=cp.size,
                                      root=cp.root.hex(), signature=store.b64(cp.sign(_key(rt))),
                                      cosignatures={}, quorum=_quorum(rt, witnesses), final=False,
                                      created_at=utcnow())
            db.add(row)
            db.flush()
            emit(db, Event(EventKind.LEDGER_CHECKPOINT, "system", f"ledger:{rt.name}",
                           {"role": "operator", "size": cp.size, "root": cp.root.hex()}))
        db.expunge(row)
    return row, tree


def _witnessed_size(rt: NodeRuntime, org: str) -> int:
    origin = _origin_of(rt, rt.name)
    with rt.db.session() as db:
        sizes = [r.size for r in store.checkpoints(db, origin)
                 if r.role == "operator" and org in r.cosignatures]
    return max(sizes, default=0)


def _ask_witness(rt: NodeRuntime, org: str, row: LedgerCheckpointRow,
                 tree: merkle.MerkleTree) -> str:
    origin = _origin_of(rt, rt.name)
    start = _witnessed_size(rt, org)
    for _ in range(2):
        if start > row.size:  # a concurrent sync already had a newer head co-signed
            raise ConflictError("a newer head of this log is already co-signed", org=org)
        with rt.db.session() as db:
            wires = [_wire(store.entry_of(r), r.producer_key, r.job_id)
                     for r in store.entries(db, origin, start=start, stop=row.size)]
        proof = tree.consistency_proof(start, row.size) if 0 < start < row.size else []
        answer = rt.peers.call(org, LEDGER_COSIGN, CosignRequest(
            origin=origin, size=row.size, root=row.root, signature=row.signature,
            operator_key=_public(rt), from_size=start, proof=[p.hex() for p in proof],
            entries=wires))
        if answer.cosignature is not None:
            with rt.db.session() as db:
                store.pin_key(db, org, answer.key)
            return answer.cosignature
        start = answer.need_from if answer.need_from is not None else start
    raise LedgerTampered("a witness did not co-sign", org=org)


def sync(rt: NodeRuntime, orgs: Iterable[str] = ()) -> dict[str, Any]:
    """Pull partners' entries, sign a new head of this node's log and collect co-signatures
    from every witness (the organisations of its jobs, and ``orgs``). Returns the head, who
    co-signed, who did not and why, and whether it is final."""
    if rt.settings.ledger_enabled:
        for kind, body in mirror.pending(rt):  # node.admin, PIR and verify3 batches
            record(rt, rt.name, kind, body)
    witnesses = sorted(set(members(rt)) | {o for o in orgs if o != rt.name})
    problems: dict[str, str] = {}
    for org in witnesses:
        try:
            _pull_from(rt, org)
        except CoalitionError as exc:
            problems[org] = f"pull: {exc.code}: {exc.message}"
    witnesses = sorted(set(members(rt)) | set(witnesses))
    row, tree = _sign_head(rt, len(witnesses))
    cosigs: dict[str, str] = dict(row.cosignatures)
    for org in witnesses:
        if org in cosigs:
            continue
        try:
            cosigs[org] = _ask_witness(rt, org, row, tree)
        except CoalitionError as exc:
            problems[org] = f"cosign: {exc.code}: {exc.message}"
    cp = store.checkpoint_of(row)
    with rt.db.session() as db:
        keys = {org: store.verify_key(k) for org in witnesses
                if (k := store.pinned_key(db, org)) is not None}
        valid = count_cosignatures(cp, {o: store.unb64(s) for o, s in cosigs.items()}, keys)
        stored = db.get(LedgerCheckpointRow, row.id)
        assert stored is not None
        stored.cosignatures = cosigs
        stored.quorum = _quorum(rt, len(witnesses))
        stored.final = bool(witnesses) and valid >= stored.quorum
        view = _checkpoint_view(stored)
    if view["final"] and rt.settings.ledger_anchor_file is not None:
        FileAnchor(rt.settings.ledger_anchor_file).publish(
            cp, {o: store.unb64(s) for o, s in cosigs.items()})
    return {**view, "witnesses": witnesses, "problems": problems}


def _checkpoint_view(row: LedgerCheckpointRow) -> dict[str, Any]:
    return {"id": row.id, "origin": row.origin, "role": row.role, "size": row.size,
            "root": row.root, "signature": row.signature,
            "cosigners": sorted(row.cosignatures), "quorum": row.quorum, "final": row.final,
            "created_at": row.created_at.isoformat()}


# --- reading and verifying ---------------------------------------------------------------


def _origin(rt: NodeRuntime, origin: str | None) -> str:
    return origin or _origin_of(rt, rt.name)


def _entry_view(row: Any) -> dict[str, Any]:
    return {"seq": row.seq, "origin": row.origin, "kind": row.kind, "producer": row.producer,
            "job_id": row.job_id, "body": row.body, "leaf": row.leaf,
            "created_at": row.created_at.isoformat()}


def show(rt: NodeRuntime, *, origin: str | None = None, job: str | None = None,
         after: int = 0, limit: int = 500) -> dict[str, Any]:
    """Entries of a log held here (default: the one this node operates)."""
    name = _origin(rt, origin)
    with rt.db.session() as db:
        rows = store.entries(db, name, start=after, job=job, limit=limit)
        return {"origin": name, "size": store.size(db, name), "origins": store.origins(db),
                "entries": [_entry_view(r) for r in rows]}


def checkpoints(rt: NodeRuntime, origin: str | None = None) -> list[dict[str, Any]]:
    """Signed heads held here (every log, or ``origin``), newest first."""
    with rt.db.session() as db:
        return [_checkpoint_view(r) for r in store.checkpoints(db, origin)]


def prove(rt: NodeRuntime, seq: int, origin: str | None = None) -> dict[str, Any]:
    """An RFC 9162 inclusion proof of entry ``seq`` in the newest head held here, checked."""
    name = _origin(rt, origin)
    with rt.db.session() as db:
        role = "operator" if store.operator_of(name) == rt.name else "witness"
        row = store.head(db, name, role)
        if row is None or not 0 <= seq < row.size:
            raise NotFoundError("no signed head of this log holds that entry", seq=seq)
        leaves = store.leaves(db, name)[: row.size]
        head = _checkpoint_view(row)
    alg = store.alg_of(name)
    tree = merkle.MerkleTree(leaves, alg)
    proof = tree.inclusion_proof(seq)
    merkle.verify_inclusion(leaves[seq], seq, row.size, proof, bytes.fromhex(row.root), alg=alg)
    return {"origin": name, "alg": alg, "seq": seq, "leaf": leaves[seq].hex(), "size": row.size,
            "root": row.root, "proof": [p.hex() for p in proof], "checkpoint": head,
            "verified": True}


def _verify_log(rt: NodeRuntime, origin: str) -> dict[str, Any]:
    operator, alg = store.operator_of(origin), store.alg_of(origin)
    role = "operator" if operator == rt.name else "witness"
    with rt.db.session() as db:
        rows = store.entries(db, origin)
        row = store.head(db, origin, role)
        named = {r.producer for r in rows} | {operator} | set(row.cosignatures if row else ())
        pins = {org: k for org in named if (k := store.pinned_key(db, org)) is not None}
    pins[rt.name] = _public(rt)
    # this node's own key of its other suite signed its logs from before a suite switch
    own_keys = {pins[rt.name], *(store.b64(k.to_bytes()) for k in former_verify_keys(rt.settings))}
    result: dict[str, Any] = {"origin": origin, "alg": alg, "role": role, "size": len(rows),
                              "checkpoint_size": 0 if row is None else row.size,
                              "final": bool(row and row.final),
                              "cosigners": [] if row is None else sorted(row.cosignatures)}
    try:
        if [r.seq for r in rows] != list(range(len(rows))):
            raise LedgerTampered("entry sequence numbers have gaps (an entry was deleted)")
        producers: dict[str, VerifyKey] = {}
        for r in rows:
            key = pins.get(r.producer, r.producer_key)
            if r.producer == rt.name and r.producer_key in own_keys:
                key = r.producer_key
            if r.producer_key != key:
                raise LedgerTampered("an entry carries a producer key other than the pinned one",
                                     seq=r.seq)
            producers[r.producer] = store.verify_key(key)
        cp = Checkpoint(origin, 0, merkle.empty_root(alg), alg) if row is None \
            else store.checkpoint_of(row)
        audit([store.entry_of(r) for r in rows], cp, producers)
        if row is not None:
            operator_keys = own_keys if operator == rt.name else {pins.get(operator)} - {None}
            if not operator_keys:
                raise LedgerTampered("the operator's ledger key is not pinned here")
            _verify_any(operator_keys, cp.body(), store.unb64(row.signature))
            if role == "operator":
                keys = {o: store.verify_key(k) for o, k in pins.items() if o != rt.name}
                valid = count_cosignatures(
                    cp, {o: store.unb64(s) for o, s in row.cosignatures.items()}, keys)
                result["valid_cosignatures"] = valid
                if row.final and valid < row.quorum:
                    raise LedgerTampered("a final head lacks its quorum of co-signatures")
        result["verified"] = True
    except CoalitionError as exc:
        result.update(verified=False, error=exc.code, message=exc.message)
    return result


def _verify_any(keys: Iterable[str | None], message: bytes, signature: bytes) -> None:
    """:class:`CryptoError` unless one of ``keys`` (base64) signed ``message``."""
    for key in sorted(k for k in keys if k is not None):
        try:
            store.verify_key(key).verify(message, signature)
        except CryptoError:
            continue
        return
    raise CryptoError("the signed tree head's signature does not verify")


def verify(rt: NodeRuntime) -> dict[str, Any]:
    """Check every log held here against the newest head this node signed or co-signed: each
    entry's signature (producer keys as pinned), no gaps, the Merkle root, the operator's
    signature and, for this node's own log, the co-signatures."""
    with rt.db.session() as db:
        names = store.origins(db)
    own = _origin_of(rt, rt.name)
    logs = [_verify_log(rt, name) for name in sorted(set(names) | {own})]
    return {"node": rt.name, "verified": all(x["verified"] for x in logs), "logs": logs}


def alerts(rt: NodeRuntime, *, open_only: bool = False) -> list[dict[str, Any]]:
    """Ledger alerts recorded here, newest first."""
    with rt.db.session() as db:
        query = select(LedgerAlertRow).order_by(LedgerAlertRow.id.desc())
        if open_only:
            query = query.where(LedgerAlertRow.acknowledged_at.is_(None))
        return [store.alert_view(r) for r in db.scalars(query)]


def acknowledge(rt: NodeRuntime, actor: str, alert_id: int, reason: str) -> dict[str, Any]:
    """An admin's decision to lift the job stop of one alert (audited with the reason)."""
    if not reason.strip():
        raise InputError("acknowledging a ledger alert needs a reason")
    with rt.db.session() as db:
        row = db.get(LedgerAlertRow, alert_id)
        if row is None:
            raise NotFoundError("no such ledger alert", id=alert_id)
        if row.acknowledged_at is None:
            row.acknowledged_by, row.acknowledged_at, row.reason = actor, utcnow(), reason
            emit(db, Event(EventKind.LEDGER_ALERT_ACKNOWLEDGED, actor, f"ledger:{row.operator}",
                           {"alert": row.id, "reason": reason}))
        return store.alert_view(row)
