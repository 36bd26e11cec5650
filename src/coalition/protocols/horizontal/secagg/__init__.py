"""Secure aggregation: the server learns only the sum of the clients' vectors.

Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning", CCS 2017
(pairwise masks from X25519 agreement, self masks, Shamir shares for dropout recovery) and Bell
et al., "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS 2020 (SecAgg+:
masks only along a random k-regular graph). Semi-honest setting: no signatures or consistency
round, so an actively malicious server is out of scope. In FL rounds a one-round pairwise-mask
fast path runs first and the full protocol only after a dropout (:mod:`.session`).
"""

from coalition.protocols.horizontal.secagg.client import SecAggClient
from coalition.protocols.horizontal.secagg.full import (
    SecureSum,
    run_secagg_client,
    run_secagg_server,
)
from coalition.protocols.horizontal.secagg.quantize import decode, encode
from coalition.protocols.horizontal.secagg.server import SecAggServer
from coalition.protocols.horizontal.secagg.session import ClientSession, ServerSession
from coalition.protocols.horizontal.secagg.spec import RoundAborted

__all__ = [
    "ClientSession",
    "RoundAborted",
    "SecAggClient",
    "SecAggServer",
    "SecureSum",
    "ServerSession",
    "decode",
    "encode",
    "run_secagg_client",
    "run_secagg_server",
]
