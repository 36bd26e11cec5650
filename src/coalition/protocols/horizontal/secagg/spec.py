"""Message keys and payloads of secure aggregation as run by horizontal FL.

**Fast path** (every round; see :mod:`.session`)::

    client → server  HELLO   {"m_pk": bytes32}     at job start: the client's X25519 mask key
    server → client  ROUND   ... "secagg": {"peers": {nbr: m_pk}}   (the FL round message)
    client → server  REPLY   ... "secagg": {"masked": uint64 array}
                             y = x + Σ_v ±PRG(HKDF(X25519(m_u, m_v), round tag))  mod 2^k

If a masked input is missing, the next ROUND (or FINAL) is ``{"fallback": bool}`` and the
clients named ``True`` re-run the sum with the **full protocol** (Bonawitz et al. CCS 2017, §4,
semi-honest variant without the consistency check) under ``round/r/fallback``; the real
instruction then follows under ``<its namespace>/resumed``. Full-protocol phases::

    client → server  ADVERTISE  {"c_pk": bytes32, "s_pk": bytes32}          (X25519 public keys)
    server → client  ROSTER     {"index": {name: x}, "keys": {nbr: {"c_pk", "s_pk"}}, "threshold": t}
    client → server  SHARES     {nbr: AEAD ciphertext of (s_sk share, b share)}  (Shamir shares)
    server → client  INBOX      {"ciphertexts": {src: bytes}, "u2": [names]}
    client → server  MASKED     {"y": uint64 array}    y = x + PRG(b_u) + Σ_v ±PRG(s_uv)  mod 2^k
    server → client  SURVIVORS  {"u3": [names], "dropped": [names]}
    client → server  UNMASK     {"b": {name: share}, "sk": {name: share}}

Every full-protocol server → client payload may instead be ``{"abort": True}``: the client was
dropped (it answered too late) or the sum was abandoned; the client then leaves it.
"""

from __future__ import annotations

from typing import Any

from coalition.core import MessageKey, ProtocolError

__all__ = [
    "ABORT",
    "ADVERTISE",
    "HELLO",
    "INBOX",
    "MASKED",
    "ROSTER",
    "SHARES",
    "SURVIVORS",
    "UNMASK",
    "RoundAborted",
    "is_abort",
]

HELLO = MessageKey("sa_hello", "client → server, at job start: the client's fast-path mask key")
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
