"""Network transport over gRPC with mutual TLS (``grpcio``, generic handlers, bytes bodies).

Each node runs a :class:`PeerServer` that files incoming messages into per-party mailboxes
(bounded memory, large payloads spill to disk); each party's :class:`GrpcChannel` pushes to its
peers' servers (retrying with backoff, payloads over ``chunk_bytes`` streamed in chunks) and
reads its own mailbox. Envelopes carry job, task, namespace, key, sender and a sequence number;
repeats are dropped, a key sent twice is a ProtocolError, a silent peer a PeerTimeoutError
naming peer and key, an unreachable one a PeerError within ``send_timeout``.

One party in one process, the way the CLI and benchmarks use it::

    from coalition.core import Party
    from coalition.transport.grpc import open_grpc_context
    from coalition.transport.tls import Trust, generate_ca, issue_party_cert

    ca = generate_ca()                        # or load the federation's CA and your party cert
    me = issue_party_cert(ca, Party.guest())
    with open_grpc_context(
        Party.guest(), listen="0.0.0.0:9001",
        peers={Party.host("telco"): "telco.example:9001"},
        identity=me, trust=Trust.federation(ca.cert_pem),
        job_id="job-42", timeout=300,
    ) as ctx:
        result = guest_role(ctx)              # protocol code sees only the Context

Identity: a client certificate's common name must equal the envelope's sender (and be the
pinned certificate with :meth:`Trust.pinned <coalition.transport.tls.Trust.pinned>`).
"""

from coalition.transport.grpc.channel import GrpcChannel
from coalition.transport.grpc.client import PeerClient
from coalition.transport.grpc.config import NetworkConfig
from coalition.transport.grpc.context import open_grpc_context
from coalition.transport.grpc.server import PeerServer

__all__ = ["GrpcChannel", "NetworkConfig", "PeerClient", "PeerServer", "open_grpc_context"]
