"""Online and offline inference between nodes, declared once (handlers: :mod:`.host`).

The guest of a service calls its hosts: :data:`SERVING_PREPARE` binds the service to the host's
part of the model version and a feature source, :data:`SERVING_KEYS` relays the co-hosts'
signed masking keys, :data:`SERVING_PARTIAL` answers one request (rows by ID → partial result)
and :data:`SERVING_RELEASE` drops the binding. None spends the per-partner call rate: every
``ServingPartial`` spends the partner's serving quota and rate instead (:mod:`.limits`).

The refusals whose meaning must survive the hop exactly are declared (a tampered host part is
an alert; a host's quota or rate refusal stays a 429 with its ``Retry-After`` for the guest's
caller; a co-host's masking key of another crypto suite stays ``serving.crypto_suite``).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from coalition.core.errors import CoalitionError
from coalition.node.library.integrity import ModelTampered
from coalition.node.peer.method import Name, PeerMethod, PeerRequest, PeerResponse
from coalition.node.serving.limits import ServingQuotaExceeded, ServingRateLimited
from coalition.node.serving.maskkeys import MaskKeySuiteMismatch
from coalition.protocols.linear.predict import TooFewFeatures

__all__ = ["MAX_IDS", "SERVING_KEYS", "SERVING_PARTIAL", "SERVING_PREPARE", "SERVING_RELEASE",
           "HostInfo", "KeysTaken", "PartialRequest", "PartialResult", "PrepareRequest",
           "Released", "ReleaseRequest", "ServiceKeys"]

MAX_IDS = 100_000
_ERRORS: tuple[type[CoalitionError], ...] = (
    ModelTampered, ServingRateLimited, ServingQuotaExceeded, TooFewFeatures,
    MaskKeySuiteMismatch)


class PrepareRequest(PeerRequest):
    """Bind ``service`` to the caller's model ``model`` v``version`` and a feature source:
    ``{"online": <source>}``, or for offline prediction (``transient``) ``{"dataset": ...}``."""

    service: Name
    model: Name
    version: int
    source: dict[str, Any]
    transient: bool = False
    cohosts: list[Name] = Field(default_factory=list)  # the model's other hosts (linear partials are then masked)


class HostInfo(PeerResponse):
    """What the guest needs to read this host's partial results (scorer-defined fields)."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)

    kind: str


class ServiceKeys(PeerRequest):
    """The co-hosts' signed masking keys, relayed by the guest (each checked by the host)."""

    service: Name
    keys: dict[str, dict[str, Any]]


class KeysTaken(PeerResponse):
    """The keys were verified and the pair keys derived."""

    ok: bool


class PartialRequest(PeerRequest):
    """One request of the hot path: rows by ID."""

    service: Name
    ids: list[str | int] = Field(min_length=1, max_length=MAX_IDS)


class PartialResult(PeerResponse):
    """The partial result of this host for the IDs (scorer-defined fields)."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class ReleaseRequest(PeerRequest):
    """Drop the binding of ``service``."""

    service: Name


class Released(PeerResponse):
    """Whether the binding was dropped."""

    released: bool


SERVING_PREPARE = PeerMethod("ServingPrepare", PrepareRequest, HostInfo, metered=False,
                             errors=_ERRORS)
SERVING_KEYS = PeerMethod("ServingKeys", ServiceKeys, KeysTaken, metered=False, errors=_ERRORS)
SERVING_PARTIAL = PeerMethod("ServingPartial", PartialRequest, PartialResult, metered=False,
                             errors=_ERRORS)
SERVING_RELEASE = PeerMethod("ServingRelease", ReleaseRequest, Released, metered=False,
                             errors=_ERRORS)
