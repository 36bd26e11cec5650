"""The telco's verification table for one key epoch: match tags of every record, and the
secret OPRF key that made them (server-local; see the package docstring for the protocol).

For each record ``(phone, name, id)`` the table holds three tags, ``F_k(x)[:16]`` for the three
domain-separated inputs of :func:`~.spec.oprf_inputs`, sorted together as one set: a holder of
the table cannot tell which tag belongs to which record or element, and cannot test a guess
without the telco evaluating ``F_k`` for it (each evaluation metered by the telco's quota).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.core.context import Executor
from coalition.core.errors import InputError, ProtocolError
from coalition.crypto.oprf_suite import oprf_for
from coalition.crypto.suite import CryptoSuite, primitives
from coalition.protocols.verify3.spec import FORMAT, TAG_BYTES, canonical_triple, oprf_inputs

__all__ = ["Manifest", "VerificationTable", "tags_of"]

U8 = npt.NDArray[np.uint8]


def tags_of(outputs: Sequence[bytes]) -> U8:
    """``(n, 16)`` tags from OPRF outputs (their first 16 bytes)."""
    if not outputs:
        return np.zeros((0, TAG_BYTES), dtype=np.uint8)
    return np.frombuffer(b"".join(o[:TAG_BYTES] for o in outputs), dtype=np.uint8).reshape(
        -1, TAG_BYTES).copy()


@dataclass(frozen=True)
class Manifest:
    """What the telco tells a bank about the current table (no record content)."""

    suite: str
    epoch: str
    rows: int
    digest: str

    def to_wire(self) -> dict[str, Any]:
        """JSON/codec-ready form."""
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_wire(cls, raw: Any) -> Manifest:
        """Parse and check a received manifest (:class:`ProtocolError` if malformed)."""
        try:
            out = cls(str(raw["suite"]), str(raw["epoch"]), int(raw["rows"]), str(raw["digest"]))
            ok = raw["format"] == FORMAT and 0 <= out.rows <= 1 << 30 and len(out.epoch) <= 64
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError("malformed verification manifest") from exc
        if not ok:
            raise ProtocolError("malformed verification manifest")
        return out


class VerificationTable:
    """The telco's table (key custody: the OPRF key never leaves this object but to its own
    folder). Build with :meth:`build`, persist with :meth:`save` / :meth:`load`."""

    __slots__ = ("_key", "epoch", "rows", "suite", "tags")

    def __init__(self, suite: CryptoSuite, key: bytes, epoch: str, tags: U8, rows: int) -> None:
        self.suite, self._key, self.epoch, self.tags, self.rows = suite, key, epoch, tags, rows

    def __repr__(self) -> str:
        return f"VerificationTable(suite={self.suite.value}, epoch={self.epoch}, rows={self.rows})"

    @classmethod
    def build(cls, records: Iterable[tuple[Any, Any, Any]], *,
              suite: CryptoSuite | str = CryptoSuite.STANDARD, country: str = "",
              key: bytes | None = None, executor: Executor | None = None) -> VerificationTable:
        """Tags for every ``(phone, name, id)`` record under a fresh key (a new epoch) or
        ``key``. :class:`InputError` names the first bad row or a phone that appears twice."""
        name = primitives(suite).name
        oprf = oprf_for(name)
        inputs: list[bytes] = []
        seen: set[str] = set()
        for row, rec in enumerate(records):
            try:
                t = canonical_triple(*rec, country=country)
            except InputError as exc:
                raise InputError(exc.message, row=row) from exc
            if t.phone in seen:
                raise InputError("a phone number appears in two records", row=row)
            seen.add(t.phone)
            inputs.extend(oprf_inputs(t))
        secret = key if key is not None else oprf.generate_key()
        tags = tags_of(oprf.evaluate_direct(secret, inputs, executor))
        order = np.lexsort(tags.T[::-1])  # sorted: the order says nothing about the records
        return cls(name, secret, secrets.token_hex(8), np.ascontiguousarray(tags[order]),
                   len(seen))

    @property
    def manifest(self) -> Manifest:
        """The current manifest (the digest hashes the tags, never a record)."""
        return Manifest(self.suite.value, self.epoch, self.rows,
                        primitives(self.suite).hash(self.tags.tobytes()).hex())

    @property
    def element_bytes(self) -> int:
        """Width of one blinded element under this table's suite."""
        return oprf_for(self.suite).element_bytes

    def evaluate(self, blinded: U8, executor: Executor | None = None) -> U8:
        """``[k]B`` for each blinded element, each validated as a group element first."""
        return oprf_for(self.suite).evaluate(self._key, blinded, executor)

    def save(self, folder: str | Path) -> None:
        """Write key (mode 0600), tags and manifest to ``folder`` (the owner's disk only)."""
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / "key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self._key)
        np.save(path / "tags.npy", self.tags, allow_pickle=False)
        (path / "manifest.json").write_text(json.dumps(self.manifest.to_wire()))

    @classmethod
    def load(cls, folder: str | Path) -> VerificationTable:
        """Read a table written by :meth:`save`."""
        path = Path(folder)
        m = Manifest.from_wire(json.loads((path / "manifest.json").read_text()))
        tags = np.load(path / "tags.npy", allow_pickle=False)
        return cls(CryptoSuite(m.suite), (path / "key").read_bytes(), m.epoch,
                   np.ascontiguousarray(tags, dtype=np.uint8), m.rows)
