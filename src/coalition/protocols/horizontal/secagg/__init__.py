"""Secure aggregation: the server learns only the sum of the clients' vectors.

Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning", CCS 2017
(pairwise masks from X25519 agreement, self masks, Shamir shares for dropout recovery) and Bell
et al., "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS 2020 (SecAgg+:
masks only along a random k-regular graph). Semi-honest setting: no signatures or consistency
round, so an actively malicious server is out of scope. Key setup of each round rides on the
previous round's messages (:mod:`.session`): two round trips per FL round.
"""

from coalition.protocols.horizontal.secagg.client import SecAggClient
from coalition.protocols.horizontal.secagg.quantize import decode, encode
from coalition.protocols.horizontal.secagg.server import SecAggServer
from coalition.protocols.horizontal.secagg.session import ClientSession, SecureSum, ServerSession
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
]
