"""Three-element verification between nodes, declared once (handlers: :mod:`.peer`).

The bank's node calls the telco's: :data:`VERIFY3_MANIFEST` (suite, epoch, record count and
the tags' digest), :data:`VERIFY3_TABLE` (one page of the sorted tags) and
:data:`VERIFY3_EVALUATE` (``[k]B`` for a padded batch of blinded elements, charged to the
caller's quota). Elements and tags travel base64-encoded; nothing else about a triple does.
"""

from __future__ import annotations

from pydantic import Field

from coalition.core.errors import AuthError, ConflictError, CryptoError, InputError
from coalition.node.peer.method import Name, PeerMethod, PeerRequest, PeerResponse
from coalition.protocols.pir.spec import QuotaExceededError

__all__ = ["MAX_ELEMENTS_PER_CALL", "PAGE_ROWS", "VERIFY3_EVALUATE", "VERIFY3_MANIFEST",
           "VERIFY3_TABLE", "EvaluateRequest", "Evaluated", "ManifestOut", "ServiceRef",
           "TablePage", "TableRequest"]

#: Blinded elements per evaluation call (3 per padded triple; ~1.4 MB of base64 at 33 bytes).
MAX_ELEMENTS_PER_CALL = 3 * 8192
#: Tags per table page (16 bytes each; ~700 kB of base64).
PAGE_ROWS = 32_768
_ERRORS = (QuotaExceededError, AuthError, ConflictError, InputError, CryptoError)


class ServiceRef(PeerRequest):
    """Which service."""

    service: Name


class ManifestOut(PeerResponse):
    """The table's manifest (no record content)."""

    format: str
    suite: str
    epoch: str
    rows: int
    digest: str
    phone_country: str = Field("", pattern=r"^[0-9]{0,4}$")


class TableRequest(PeerRequest):
    """One page of the tags of ``epoch``."""

    service: Name
    epoch: str = Field(max_length=64)
    offset: int = Field(ge=0)


class TablePage(PeerResponse):
    """Tags ``offset ..`` (base64 of 16-byte rows) and how many there are in all."""

    offset: int
    total: int
    tags: str


class EvaluateRequest(PeerRequest):
    """A padded batch of blinded elements (base64 of ``count`` rows)."""

    service: Name
    epoch: str = Field(max_length=64)
    count: int = Field(ge=3, le=MAX_ELEMENTS_PER_CALL)
    elements: str = Field(max_length=MAX_ELEMENTS_PER_CALL * 48)


class Evaluated(PeerResponse):
    """``[k]B`` for each element, in order (base64)."""

    elements: str


VERIFY3_MANIFEST = PeerMethod("Verify3Manifest", ServiceRef, ManifestOut, errors=_ERRORS)
VERIFY3_TABLE = PeerMethod("Verify3Table", TableRequest, TablePage, errors=_ERRORS)
VERIFY3_EVALUATE = PeerMethod("Verify3Evaluate", EvaluateRequest, Evaluated, errors=_ERRORS)
