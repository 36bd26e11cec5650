"""Ids, roles, typed errors, the codec, the parameter contract (:class:`Params`), and the
``Context``/``Channel`` interfaces.

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
from coalition.core.params import ParamConflict, ParamProblem, Params

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
    "ParamConflict",
    "ParamProblem",
    "Params",
    "Party",
    "PeerError",
    "PeerTimeoutError",
    "ProtocolError",
    "Role",
    "SerialExecutor",
    "codec",
]
