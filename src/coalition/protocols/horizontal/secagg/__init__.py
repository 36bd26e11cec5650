"""Secure aggregation: the server learns only the sum of the clients' vectors.

Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning", CCS 2017
(pairwise masks from X25519 agreement, self masks, Shamir shares for dropout recovery) and Bell
et al., "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS 2020 (SecAgg+:
masks only along a random k-regular graph). Semi-honest setting: no signatures or consistency
round, so an actively malicious server is out of scope.
"""

from coalition.protocols.horizontal.secagg.client import SecAggClient, run_secagg_client
from coalition.protocols.horizontal.secagg.quantize import decode, encode
from coalition.protocols.horizontal.secagg.server import SecAggServer, SecureSum, run_secagg_server
from coalition.protocols.horizontal.secagg.spec import RoundAborted

__all__ = [
    "RoundAborted",
    "SecAggClient",
    "SecAggServer",
    "SecureSum",
    "decode",
    "encode",
    "run_secagg_client",
    "run_secagg_server",
]
