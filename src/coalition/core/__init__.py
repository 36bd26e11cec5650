"""Ids, roles, typed errors, the codec, and the ``Context``/``Channel`` interfaces.

``coalition.core`` touches no sockets, database, HTTP or threads of its own.
"""

from coalition.core import codec
from coalition.core.context import (
    Channel,
    Context,
    Executor,
    MemoryMetrics,
    MessageKey,
    MetricPoint,
    MetricsSink,
    SerialExecutor,
)
from coalition.core.errors import (
    AuthError,
    CoalitionError,
    CodecError,
    ConfigError,
    ConflictError,
    CryptoError,
    EncodingOverflowError,
    InputError,
    NotFoundError,
    PeerError,
    PeerTimeoutError,
    ProtocolError,
)
from coalition.core.ids import Party, Role

__all__ = [
    "AuthError",
    "Channel",
    "CodecError",
    "CoalitionError",
    "ConfigError",
    "ConflictError",
    "Context",
    "CryptoError",
    "EncodingOverflowError",
    "Executor",
    "InputError",
    "MemoryMetrics",
    "MessageKey",
    "MetricPoint",
    "MetricsSink",
    "NotFoundError",
    "Party",
    "PeerError",
    "PeerTimeoutError",
    "ProtocolError",
    "Role",
    "SerialExecutor",
    "codec",
]
