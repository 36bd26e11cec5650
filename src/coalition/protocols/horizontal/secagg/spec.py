"""Message keys and payloads of secure aggregation (Bonawitz et al. CCS 2017, §4; semi-honest
variant without the consistency check), as carried by horizontal FL (see :mod:`.session`).

The phases of one round's secure sum and their payloads::

    advertise  client → server  {"c_pk": bytes32, "s_pk": bytes32}          (X25519 public keys)
    roster     server → client  {"index": {name: x}, "keys": {nbr: {"c_pk", "s_pk"}}, "threshold": t}
    shares     client → server  {nbr: AEAD ciphertext of (s_sk share, b share)}
    inbox      server → client  {"ciphertexts": {src: bytes}, "u2": [names]}
    masked     client → server  uint64 array  y = x + PRG(b_u) + Σ_v ±PRG(s_uv)  mod 2^k
    unmask     server → client  {"u3": [names], "dropped": [names]}
               client → server  {"b": {name: share}, "sk": {name: share}}

They travel inside three keys of their own (HELLO, REQUEST, RESPONSE) and the FL round's ROUND
and REPLY messages. A server → client phase payload may instead be ``{"abort": True}``: the
client was dropped from that sum or the sum was abandoned.
"""

from __future__ import annotations

from typing import Any

from coalition.core import MessageKey, ProtocolError

__all__ = [
    "ABORT",
    "HELLO",
    "REQUEST",
    "RESPONSE",
    "RoundAborted",
    "is_abort",
]

HELLO = MessageKey("sa_hello", "client → server, at job start: {'advertise': keys of round 0}")
REQUEST = MessageKey("sa_request", "server → client: {'unmask': unmask request of this round | "
                     "abort | None, 'roster': roster of the next round | abort | None}")
RESPONSE = MessageKey("sa_response", "client → server: {'unmask': shares of b and s_sk, "
                      "'shares': encrypted shares of the next round} (either may be absent)")

ABORT: dict[str, Any] = {"abort": True}


def is_abort(payload: Any) -> bool:
    """Whether a server payload tells the client to leave the round."""
    return isinstance(payload, dict) and payload.get("abort") is True


class RoundAborted(ProtocolError):
    """Too few clients are left to finish the secure sum of this round."""

    code = "protocol.secagg_aborted"
