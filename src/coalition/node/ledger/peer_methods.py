"""What nodes ask each other about the federation log.

* ``LedgerPull`` — the operator (a job's initiator) asks a partner for the entries the partner
  signed for the operator's log and that no co-signed head holds yet.
* ``LedgerCosign`` — the operator shows a witness a new signed tree head with the entries it
  adds since the witness's own last head; the witness checks and co-signs, or raises
  ``ledger.fork`` / ``ledger.tampered`` (and stops jobs with that operator).

Leakage: entries hold hashes, sizes, scores and names of jobs, datasets and organisations,
never data values (:mod:`coalition.node.ledger.entries`); a witness learns the records of the
log it witnesses, and the operator learns each witness's ledger public key.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from coalition.crypto.checkpoint import ForkDetected
from coalition.node.ledger.errors import LedgerTampered
from coalition.node.peer.method import Empty, Name, PeerMethod, PeerRequest, PeerResponse

__all__ = ["LEDGER_COSIGN", "LEDGER_PULL", "CosignAnswer", "CosignRequest", "PulledEntries",
           "WireEntry"]

B64 = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
_MAX_ENTRIES = 10_000


class WireEntry(PeerRequest, PeerResponse):
    """One signed record (``signature`` and ``producer_key`` base64)."""

    kind: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    producer: Name
    job_id: str | None = Field(default=None, max_length=32)
    body: dict[str, Any]
    signature: B64
    producer_key: B64


class PulledEntries(PeerResponse):
    """Entries the answering node signed for the caller's log, oldest first."""

    entries: list[WireEntry] = Field(max_length=_MAX_ENTRIES)
    key: B64  # the answering node's ledger key


class CosignRequest(PeerRequest):
    """A signed tree head and what the witness needs to check it from its own records."""

    origin: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    size: int = Field(ge=0)
    root: Hex
    signature: B64
    operator_key: B64
    from_size: int = Field(ge=0)  # the witness's head size the operator believes
    proof: list[Hex] = Field(max_length=64)  # consistency proof from_size -> size
    entries: list[WireEntry] = Field(max_length=_MAX_ENTRIES)  # leaves from_size .. size-1


class CosignAnswer(PeerResponse):
    """The co-signature, or ``need_from``: the witness's own head size to resend from."""

    cosignature: str | None = None
    key: B64
    need_from: int | None = None


LEDGER_PULL = PeerMethod("LedgerPull", Empty, PulledEntries)
LEDGER_COSIGN = PeerMethod("LedgerCosign", CosignRequest, CosignAnswer,
                           errors=(ForkDetected, LedgerTampered))
