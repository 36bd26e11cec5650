"""Message keys and payloads of the secure-sum sub-protocol (one instance per round).

Phases (Bonawitz et al. CCS 2017, §4; semi-honest variant without the consistency check)::

    client → server  ADVERTISE  {"c_pk": bytes32, "s_pk": bytes32}          (X25519 public keys)
    server → client  ROSTER     {"index": {name: x}, "keys": {nbr: {"c_pk", "s_pk"}}, "threshold": t}
    client → server  SHARES     {nbr: AEAD ciphertext of {src, dst, sk, b}}  (Shamir shares)
    server → client  INBOX      {"ciphertexts": {src: bytes}, "u2": [names]}
    client → server  MASKED     {"y": uint64 array}    y = x + PRG(b_u) + Σ_v ±PRG(s_uv)  mod 2^k
    server → client  SURVIVORS  {"u3": [names], "dropped": [names]}
    client → server  UNMASK     {"b": {name: share}, "sk": {name: share}}

Every server → client payload may instead be ``{"abort": True}``: the client was dropped (it
answered too late) or the round was abandoned; the client then leaves the round.
"""

from __future__ import annotations

from typing import Any

from coalition.core import MessageKey, ProtocolError

__all__ = [
    "ABORT",
    "ADVERTISE",
    "INBOX",
    "MASKED",
    "ROSTER",
    "SHARES",
    "SURVIVORS",
    "UNMASK",
    "RoundAborted",
    "is_abort",
]

ADVERTISE = MessageKey("sa_advertise", "client → server: two X25519 public keys")
ROSTER = MessageKey("sa_roster", "server → client: neighbours' public keys, indices, threshold")
SHARES = MessageKey("sa_shares", "client → server: encrypted Shamir shares, one per neighbour")
INBOX = MessageKey("sa_inbox", "server → client: shares addressed to it, and the set U2")
MASKED = MessageKey("sa_masked", "client → server: masked quantised update")
SURVIVORS = MessageKey("sa_survivors", "server → client: who sent masked input (U3), who dropped")
UNMASK = MessageKey("sa_unmask", "client → server: shares of b (survivors) and of s_sk (dropped)")

ABORT: dict[str, Any] = {"abort": True}


def is_abort(payload: Any) -> bool:
    """Whether a server payload tells the client to leave the round."""
    return isinstance(payload, dict) and payload.get("abort") is True


class RoundAborted(ProtocolError):
    """Too few clients are left to finish the secure sum of this round."""

    code = "protocol.secagg_aborted"
