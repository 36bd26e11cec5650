"""Shared parameters, message keys and result types of private set intersection (every
protocol, every role).

:class:`PsiParams` follows the parameter contract of :class:`coalition.core.Params`: validated
once at the boundary (:meth:`PsiParams.parse`), every problem one
:class:`~coalition.core.errors.ConfigError` naming its field. ``protocol`` picks the engine
(``ecdh``: 2 or 3+ parties, cardinality-only, interop; ``kkrt``: OT-extension, balanced 2-party;
``oprf``: unbalanced/periodic runs with a cached table); ``delivery`` picks who learns what.
Every engine returns the same :class:`PsiResult`.

Truncation (second-stage values): comparing ``n_a * n_b`` pairs of ``8 * t``-bit pseudorandom
values gives a false match with probability at most ``n_a * n_b / 2**(8 t)`` (union bound).
:func:`truncation_bytes` picks the smallest ``t`` making that at most ``2**-stat_bits``
(default 40): 1M x 1M needs 80 bits, so ``t = 10`` bytes instead of 32.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import Field, model_validator

from coalition.core.context import MessageKey
from coalition.core.errors import ConfigError
from coalition.core.params import ParamConflict, Params
from coalition.crypto.suite import CryptoSuite

__all__ = [
    "HELLO",
    "MULTI_HOP",
    "MULTI_HOST_TAGS",
    "MULTI_SIZE",
    "NS_BLINDED",
    "NS_DELIVER",
    "NS_EVALUATED",
    "NS_GUEST_DOUBLE",
    "NS_GUEST_SET",
    "NS_HOST_SET",
    "NS_HOST_TAGS",
    "NS_TABLE_ADDED",
    "NS_TABLE_FULL",
    "NS_TABLE_REMOVED",
    "OPRF_BLINDED",
    "OPRF_EVALUATED",
    "OPRF_TABLE",
    "OPRF_TABLE_INFO",
    "PEER_REENCRYPTED",
    "RESULT_POSITIONS",
    "RESULT_SIZE",
    "SELF_ENCRYPTED",
    "Delivery",
    "OnDuplicate",
    "PsiParams",
    "PsiProtocol",
    "PsiResult",
    "PsiSummary",
    "truncation_bytes",
]


class PsiProtocol(StrEnum):
    """The PSI engine."""

    ECDH = "ecdh"  # Diffie-Hellman PSI over X25519: 2 parties, and 3+ parties (chained)
    OPRF = "oprf"  # blinded OPRF against a cached PRF table: unbalanced / periodic
    KKRT = "kkrt"  # OT-extension PSI (Kolesnikov et al. 2016): balanced 2-party, fastest
    AUTO = "auto"  # kkrt for 2 parties, ecdh for 3+ parties or cardinality-only


class Delivery(StrEnum):
    """Who learns the result."""

    BOTH = "both"  # every party learns the intersection (members and own row indices)
    GUEST = "guest"  # only the guest learns members; hosts learn the size
    CARDINALITY = "cardinality"  # nobody learns members; everyone learns the size


class OnDuplicate(StrEnum):
    """What to do with repeated IDs in one party's input."""

    ERROR = "error"  # refuse the input (InputError with the count)
    DEDUPE = "dedupe"  # keep the first occurrence, report the count


class PsiParams(Params):
    """Parameters every party must agree on (checked in the handshake), plus local ones."""

    params_of = "PSI"

    protocol: PsiProtocol = Field(PsiProtocol.AUTO, description=(
        "engine: ecdh, kkrt, oprf, or auto (kkrt for 2 parties, ecdh for 3+ or cardinality)"))
    delivery: Delivery = Field(Delivery.BOTH, description=(
        "who learns members: both, guest (hosts learn the size) or cardinality (nobody)"))
    on_duplicate: OnDuplicate = Field(OnDuplicate.DEDUPE, description=(
        "repeated IDs in one party's input: dedupe (keep the first) or error"))
    stat_bits: int = Field(40, ge=20, le=128, description="false-match bound 2^-stat_bits")
    batch_rows: int = Field(65_536, ge=256, le=4_194_304, description="rows per message")
    oprf_prf_bytes: int = Field(12, ge=8, le=32, description="oprf: PRF table value width")
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite: standard (Curve25519, SHA-2) or sm (SM2/SM3/SM4); set by the federation"))

    @model_validator(mode="after")
    def _consistent(self) -> PsiParams:
        if (self.protocol not in (PsiProtocol.ECDH, PsiProtocol.AUTO)
                and self.delivery == Delivery.CARDINALITY):
            raise ParamConflict(f"{self.protocol.value} PSI cannot hide members from the "
                                "guest; use protocol 'ecdh' for cardinality-only",
                                "protocol", "delivery")
        return self

    def for_parties(self, n_hosts: int) -> PsiParams:
        """Resolve ``auto``: KKRT for balanced 2-party PSI, ECDH for 3+ parties or
        cardinality-only (the only engine that hides members from everyone)."""
        if self.protocol != PsiProtocol.AUTO:
            return self
        fast = n_hosts == 1 and self.delivery != Delivery.CARDINALITY
        return self.model_copy(update={"protocol": PsiProtocol.KKRT if fast else PsiProtocol.ECDH})

    def agreed(self) -> dict[str, Any]:
        """The fields all parties must share (compared in the handshake)."""
        return {"protocol": self.protocol.value, "delivery": self.delivery.value,
                "stat_bits": self.stat_bits, "oprf_prf_bytes": self.oprf_prf_bytes,
                "suite": self.suite.value}


def truncation_bytes(n_a: int, n_b: int, stat_bits: int) -> int:
    """Bytes kept of each compared value so that a false match among all ``n_a * n_b``
    comparisons has probability <= 2^-stat_bits (see module docstring); 8 to 32."""
    bits = stat_bits + math.ceil(math.log2(max(2, n_a * n_b)))
    return min(32, max(8, math.ceil(bits / 8)))


@dataclass
class PsiSummary:
    """What happened, for logs and the CLI (no members)."""

    protocol: str
    delivery: str
    party: str
    input_rows: int
    unique_ids: int
    duplicates: int
    peer_sizes: dict[str, int]
    intersection_size: int
    seconds: float
    bytes_sent: int
    bytes_received: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class PsiResult:
    """One party's outcome.

    ``ids`` (canonical form) and ``indices`` (rows of this party's input, first occurrence of
    each ID) are in the one order all learning parties agree on — ascending canonical ID — or
    ``None`` for a party that learns only the size.
    """

    size: int
    ids: list[str] | None
    indices: npt.NDArray[np.int64] | None
    summary: PsiSummary

    @property
    def learns_members(self) -> bool:
        """Whether this party learned which IDs are shared."""
        return self.ids is not None

    def select(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``table`` (this party's PSI input, same row order) in the agreed order."""
        if self.indices is None:
            raise ConfigError("this party learned only the intersection size")
        return table.iloc[self.indices].reset_index(drop=True)


# -- message keys ---------------------------------------------------------------------------
HELLO = MessageKey("hello", "params agreed by all parties, set size")
SELF_ENCRYPTED = MessageKey("self_encrypted", "ecdh: [k_sender]H(x), one batch")
PEER_REENCRYPTED = MessageKey("peer_reencrypted", "ecdh: [k_host][k_guest]H(x), truncated")
RESULT_POSITIONS = MessageKey("result_positions", "positions of matches in the receiver's array")
RESULT_SIZE = MessageKey("result_size", "intersection size")
MULTI_SIZE = MessageKey("multi_size", "multi-party: set size broadcast")
MULTI_HOP = MessageKey("multi_hop", "multi-party: a set on its way around the ring")
MULTI_HOST_TAGS = MessageKey("multi_host_tags", "multi-party: tags of the hosts' intersection")
OPRF_TABLE_INFO = MessageKey("oprf_table_info", "oprf: epoch, version, sizes, full or delta")
OPRF_TABLE = MessageKey("oprf_table", "oprf: PRF table values (sorted), one batch")
OPRF_BLINDED = MessageKey("oprf_blinded", "oprf: blinded client elements, one batch")
OPRF_EVALUATED = MessageKey("oprf_evaluated", "oprf: server-evaluated elements, one batch")

# -- sub-namespaces of the batched streams (``ctx.sub(NAME)``; batches under ``NAME/i``) -------
NS_GUEST_SET = "guest_set"  # ecdh: the guest's [a]H(x)
NS_HOST_SET = "host_set"  # ecdh: the host's [b]H(y), shuffled
NS_GUEST_DOUBLE = "guest_double"  # ecdh: [b][a]H(x), truncated
NS_TABLE_FULL = "table_full"  # oprf: the whole PRF table, sorted
NS_TABLE_ADDED = "table_added"  # oprf: PRF values added since the client's version
NS_TABLE_REMOVED = "table_removed"  # oprf: tombstones since the client's version
NS_BLINDED = "blinded"  # oprf: client's blinded elements
NS_EVALUATED = "evaluated"  # oprf: server's evaluated elements
NS_HOST_TAGS = "host_tags"  # multi-party: tags of the hosts' intersection
NS_DELIVER = "deliver"  # multi-party, both: the 2-party runs on the intersection
