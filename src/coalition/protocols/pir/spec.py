"""Shared parameters, message keys, errors and padding rules of keyword PIR (every mode, both
roles).

Modes (:class:`PirMode`):

* ``download`` — the client downloads the whole encrypted table of the epoch (once; later only
  deltas) and runs one blinded-OPRF round trip per batch. The server learns the padded batch
  size only.
* ``bucketed`` — the client reveals, per padded query, a ``bucket_bits``-bit prefix of the
  query's tag and downloads just those buckets: k-anonymity among ``rows / 2**bucket_bits``.
* ``ot_decoys`` — the industry's 匿踪查询: each ID hidden among ``decoys - 1`` decoys, answered
  through 1-out-of-``decoys`` oblivious transfer. The server sees every candidate ID.

:func:`padded_size` hides the batch size: the client pads to a power of two of at least
``min_batch`` with random dummy IDs indistinguishable from real ones.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from coalition.core.context import MessageKey
from coalition.core.errors import CoalitionError
from coalition.core.params import Params
from coalition.crypto.suite import CryptoSuite

__all__ = [
    "FORMAT",
    "ModeRefusedError",
    "PIR_ANSWERS",
    "PIR_BLINDED",
    "PIR_BUCKETS",
    "PIR_BUCKET_REQUEST",
    "PIR_CHOICES",
    "PIR_EVALUATED",
    "PIR_HELLO",
    "PIR_MANIFEST",
    "PIR_TABLE",
    "PIR_TABLE_INFO",
    "PirMode",
    "PirParams",
    "QuotaExceededError",
    "padded_size",
]

FORMAT = "coalition-pir/1"
MAX_BUCKET_BITS = 16


class PirMode(StrEnum):
    """How the client looks up its IDs (see module docstring)."""

    DOWNLOAD = "download"
    BUCKETED = "bucketed"
    OT_DECOYS = "ot_decoys"


class PirParams(Params):
    """The client's query parameters (the table's own settings travel in its manifest)."""

    params_of = "PIR"

    mode: PirMode = Field(PirMode.DOWNLOAD, description="download, bucketed or ot_decoys")
    min_batch: int = Field(16, ge=1, le=1 << 20, description="smallest padded batch size")
    decoys: int = Field(100, ge=2, le=4096, description="ot_decoys: candidates per query (k)")
    batch_rows: int = Field(65_536, ge=256, le=4_194_304, description="table rows per message")
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "the client's federation crypto suite: a table of another suite is refused"))


def padded_size(n: int, min_batch: int) -> int:
    """The batch size the server sees for ``n`` real queries: the next power of two, at least
    ``min_batch`` (so an empty batch is indistinguishable from a small one)."""
    size = max(1, min_batch)
    while size < n:
        size *= 2
    return size


class QuotaExceededError(CoalitionError):
    """A client asked for more queries than its quota for the table's current epoch allows.

    Raised on both sides: the server refuses before any evaluation, and the client raises it
    from the server's refusal (``details`` carries limit, used and requested).
    """

    code = "pir.quota_exceeded"
    http_status = 429


class ModeRefusedError(CoalitionError):
    """The client asked for a mode the server does not answer for this table (refused before
    the quota is charged; the client raises it from the server's refusal)."""

    code = "pir.mode_refused"
    http_status = 403


# -- message keys ---------------------------------------------------------------------------
PIR_HELLO = MessageKey("pir_hello", "client: mode, padded batch size, cached table state")
PIR_MANIFEST = MessageKey("pir_manifest", "server: signed manifest (or a refusal), OT point")
PIR_TABLE_INFO = MessageKey("pir_table_info", "download: full table or delta, sizes")
PIR_TABLE = MessageKey("pir_table", "download: encrypted records or tombstone tags, one batch")
PIR_BLINDED = MessageKey("pir_blinded", "client: blinded OPRF elements (padded batch)")
PIR_EVALUATED = MessageKey("pir_evaluated", "server: [k]B for each blinded element")
PIR_BUCKET_REQUEST = MessageKey("pir_bucket_request", "bucketed: one bucket index per query")
PIR_BUCKETS = MessageKey("pir_buckets", "bucketed: records and Merkle proofs of the buckets")
PIR_CHOICES = MessageKey("pir_choices", "ot_decoys: candidate IDs and OT choice points")
PIR_ANSWERS = MessageKey("pir_answers", "ot_decoys: every candidate's answer under its OT pad")
