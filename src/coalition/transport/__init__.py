"""``Channel`` implementations: the in-memory hub and (network) gRPC with mutual TLS.

``coalition.transport.memory`` — all parties in one process (tests, standalone mode);
``coalition.transport.grpc`` — one node per process over mutual TLS (imported on demand, so the
in-memory path never loads grpcio); ``coalition.transport.tls`` — identities and trust.
Both transports share envelopes, mailboxes and the :class:`SealingChannel` interface.
"""

from coalition.transport.base import Flushable, SealingChannel
from coalition.transport.envelope import Envelope, Outbox
from coalition.transport.mailbox import Mailbox
from coalition.transport.memory import MemoryChannel, MemoryHub
from coalition.transport.spool import Spool

__all__ = ["Envelope", "Flushable", "Mailbox", "MemoryChannel", "MemoryHub", "Outbox", "SealingChannel",
           "Spool"]
