"""PIR services between nodes, declared once (handlers: :mod:`.provider`).

:data:`PIR_SERVICE_INFO` gives a consumer what it needs to query a published service (the
table's ID, the modes it answers, the payload columns and the manifest key to pin); the
partner's certificate authenticates the answer. :data:`PIR_EXCHANGE` carries one keyword-PIR
batch as a conversation of unary calls (:mod:`.conversation`): the first call (``session``
empty) opens a session on the provider and may carry the consumer's first messages; each call
delivers the consumer's frames and returns the provider's, until ``done``.

Both need the provider's approved ``pir`` grant for the service's dataset, checked by the
provider from its own records. The refusals a consumer must see exactly are declared: an
exhausted quota (``pir.quota_exceeded``, 429) and a mode the service does not answer.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from coalition.core.errors import CoalitionError
from coalition.node.peer.method import Name, PeerMethod, PeerRequest, PeerResponse
from coalition.protocols.pir.spec import ModeRefusedError, QuotaExceededError

__all__ = ["MAX_FRAMES", "PIR_EXCHANGE", "PIR_SERVICE_INFO", "ExchangeReply", "ExchangeRequest",
           "FrameModel", "ServiceInfo", "ServiceInfoRequest"]

MAX_FRAMES = 256
_ERRORS: tuple[type[CoalitionError], ...] = (QuotaExceededError, ModeRefusedError)
_Key = Annotated[str, StringConstraints(min_length=1, max_length=300)]
_Short = Annotated[str, StringConstraints(max_length=128)]


class ServiceInfoRequest(PeerRequest):
    """Which published service."""

    service: Name


class ServiceInfo(PeerResponse):
    """A published service as a consumer sees it (no ID, no payload)."""

    service: str
    table_id: str
    modes: list[str]
    columns: list[str]
    epoch: str
    version: int
    rows: int
    verify_key: str


class FrameModel(PeerRequest, PeerResponse):
    """One fragment of one protocol message (``data``: base64 of the codec's bytes)."""

    key: _Key
    part: int = Field(ge=0, le=1 << 16)
    last: bool
    data: Annotated[str, StringConstraints(max_length=2 * 1024 * 1024)]


class ExchangeRequest(PeerRequest):
    """One call of a batch's conversation. On the opening call (``session`` empty) ``mode``,
    ``api_key`` (the consumer's credential that asked, for per-key quotas) and ``columns``
    (the payload columns wanted; empty: all published) are checked by the provider."""

    service: Name
    session: _Short = ""
    mode: _Short = ""
    api_key: _Short = ""
    columns: list[Name] = Field(default_factory=list, max_length=256)
    frames: list[FrameModel] = Field(default_factory=list, max_length=MAX_FRAMES)


class ExchangeReply(PeerResponse):
    """The provider's frames; ``more``: call again even with nothing to send; ``done``: the
    provider's side of the batch has ended."""

    session: str
    frames: list[FrameModel]
    more: bool
    done: bool


PIR_SERVICE_INFO = PeerMethod("PirServiceInfo", ServiceInfoRequest, ServiceInfo, errors=_ERRORS)
PIR_EXCHANGE = PeerMethod("PirExchange", ExchangeRequest, ExchangeReply, errors=_ERRORS)
