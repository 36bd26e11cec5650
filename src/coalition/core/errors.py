"""Typed errors with stable codes.

Every error Coalition raises on purpose is a :class:`CoalitionError`. Each subclass carries a
stable, dotted ``code`` (safe to match on in scripts and in HTTP problem documents) and an
``http_status`` used by the one place that maps errors to RFC 9457 responses. Details are
keyword arguments kept in ``details`` — they must never contain raw data values.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthError",
    "CodecError",
    "CoalitionError",
    "ComputeError",
    "ConfigError",
    "ConflictError",
    "CryptoError",
    "EncodingOverflowError",
    "InputError",
    "NotFoundError",
    "PeerError",
    "PeerTimeoutError",
    "ProtocolError",
]


class CoalitionError(Exception):
    """Base of every deliberate Coalition error."""

    code: ClassVar[str] = "coalition.error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        if not self.details:
            return self.message
        extra = ", ".join(f"{k}={v!r}" for k, v in sorted(self.details.items()))
        return f"{self.message} ({extra})"

    def to_problem(self) -> dict[str, Any]:
        """The error as an RFC 9457 problem document body."""
        return {
            "type": f"urn:coalition:error:{self.code}",
            "title": type(self).__name__,
            "status": self.http_status,
            "detail": self.message,
            "code": self.code,
            **({"details": self.details} if self.details else {}),
        }


class ConfigError(CoalitionError):
    """Invalid settings or parameters, detected before any work starts."""

    code = "config.invalid"
    http_status = 400


class ComputeError(CoalitionError):
    """The compute backend (a local Ray, a Ray cluster) could not start or be reached."""

    code = "compute.unavailable"
    http_status = 503


class InputError(CoalitionError):
    """Bad input data: malformed file, schema mismatch, duplicate/missing IDs, NaN, empty sets."""

    code = "input.invalid"
    http_status = 422


class ProtocolError(CoalitionError):
    """A protocol invariant was violated (unexpected message, duplicate key, wrong shape)."""

    code = "protocol.violation"
    http_status = 500


class PeerError(CoalitionError):
    """A partner could not be reached or failed during a job."""

    code = "peer.unavailable"
    http_status = 502


class PeerTimeoutError(PeerError):
    """A message from a named peer did not arrive within the timeout."""

    code = "peer.timeout"
    http_status = 504


class CryptoError(CoalitionError):
    """A cryptographic operation failed (wrong key, bad ciphertext, bad signature)."""

    code = "crypto.failed"
    http_status = 500


class EncodingOverflowError(CryptoError):
    """A value cannot be encoded as a plaintext: NaN, inf, or beyond the key's range."""

    code = "crypto.encoding_overflow"
    http_status = 422


class CodecError(CoalitionError):
    """A payload cannot be (de)serialised: unknown type, oversized, or corrupt."""

    code = "codec.refused"
    http_status = 400


class AuthError(CoalitionError):
    """Authentication or authorisation failed."""

    code = "auth.denied"
    http_status = 403


class NotFoundError(CoalitionError):
    """A named object does not exist."""

    code = "not_found"
    http_status = 404


class ConflictError(CoalitionError):
    """The request conflicts with the current state (already exists, still in use)."""

    code = "conflict"
    http_status = 409
