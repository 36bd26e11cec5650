"""Peer methods declared once: name, request and response models, who may call, what state.

A :class:`PeerMethod` is to node-to-node calls what :class:`~coalition.core.MessageKey` is to
protocol messages: a typed constant both sides import. The caller passes the method object and
a request model to :class:`~coalition.node.peer.client.PeerClient`; the answering node binds a
handler to the same object in a :class:`~coalition.node.peer.registry.PeerRegistry`. A method
name is written exactly once, in its declaration.

Requests and responses are pydantic models validated from JSON in strict mode (no coercion of
``"5"`` to ``5`` or of ``1`` to ``true``); unknown fields are ignored so that nodes of
neighbouring versions can talk. A request that does not validate is refused with a typed
``input.invalid`` error that names the field, never its value.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from coalition.core.errors import CoalitionError
from coalition.core.ids import check_job_id
from coalition.node.runtime import NodeRuntime

__all__ = ["Access", "Empty", "Handler", "JobId", "Name", "PeerMethod", "PeerRequest",
           "PeerResponse", "Requirement", "Seconds"]


class Access(enum.StrEnum):
    """Who may call a method. Every caller is a registered partner (its certificate checked
    by the endpoint) or this node itself (a local call through the same registry)."""

    PARTNER = "partner"  # any registered partner
    JOB_INITIATOR = "job_initiator"  # the initiator of the job the request names
    JOB_PARTY = "job_party"  # an organisation that runs a party of the job the request names


class Requirement(enum.StrEnum):
    """The state this node must be in before the handler runs (beyond :class:`Access`)."""

    NONE = "none"
    JOB_ACCEPTED_HERE = "job_accepted_here"  # this node recorded its own acceptance of the job
    # As above, except for a request that only stops the job (to failed or cancelled).
    JOB_ACCEPTED_HERE_UNLESS_STOPPING = "job_accepted_here_unless_stopping"


class PeerRequest(BaseModel):
    """Base of every request: strict JSON, unknown fields ignored, immutable."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class PeerResponse(BaseModel):
    """Base of every response (same rules as :class:`PeerRequest`)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Empty(PeerRequest, PeerResponse):
    """A request or answer with no fields."""


Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
"""A name a partner sends (organisation, party, task, model, service): 1..200 characters."""
JobId = Annotated[str, AfterValidator(check_job_id)]
"""A job id (16 lowercase hex digits), checked before it reaches a database or a folder."""
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
"""A positive, finite number of seconds."""

Req = TypeVar("Req", bound=PeerRequest)
Resp = TypeVar("Resp", bound=PeerResponse)

Handler = Callable[[NodeRuntime, str, Any], PeerResponse]
"""``handler(rt, caller, request) -> response``; ``caller`` is the calling organisation."""


@dataclass(frozen=True, eq=False)
class PeerMethod(Generic[Req, Resp]):
    """One node-to-node method.

    ``metered``: whether a call spends the caller's per-partner call rate (the serving hot
    path has its own quotas). ``errors``: typed errors the handler raises whose exact class
    the caller must get back (matched by code); any other remote typed error keeps its kind
    by gRPC status.
    """

    name: str
    request: type[Req]
    response: type[Resp]
    access: Access = Access.PARTNER
    requires: Requirement = Requirement.NONE
    metered: bool = True
    errors: tuple[type[CoalitionError], ...] = ()

    def __repr__(self) -> str:
        return f"PeerMethod({self.name!r})"
