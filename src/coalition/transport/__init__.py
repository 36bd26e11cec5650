"""``Channel`` implementations: the in-memory hub and (network) gRPC with mutual TLS."""

from coalition.transport.memory import MemoryChannel, MemoryHub

__all__ = ["MemoryChannel", "MemoryHub"]
