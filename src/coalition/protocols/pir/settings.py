"""The server operator's settings of one PIR table (fixed for the table's life; published in
its manifest)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from coalition.core.errors import ConfigError
from coalition.protocols.pir.records import MAX_PAYLOAD
from coalition.protocols.pir.spec import MAX_BUCKET_BITS

__all__ = ["TableSettings"]


@dataclass(frozen=True)
class TableSettings:
    """``table_id`` names the table in manifests and associated data; ``payload_bytes`` is the
    fixed padded payload length; ``bucket_bits`` the prefix length of bucketed queries (and the
    Merkle tree's depth); ``payload_format`` is ``bytes`` or ``json`` (an object over
    ``columns``); ``case`` the ID canonicalisation both sides apply."""

    table_id: str
    payload_bytes: int
    bucket_bits: int = 8
    payload_format: str = "bytes"
    columns: tuple[str, ...] = field(default_factory=tuple)
    case: str = "lower"

    def __post_init__(self) -> None:
        if not self.table_id or len(self.table_id.encode("utf-8")) > 200:
            raise ConfigError("table_id must be 1..200 bytes")
        if not 0 < self.payload_bytes <= MAX_PAYLOAD:
            raise ConfigError("payload_bytes must be in 1..65535",
                              payload_bytes=self.payload_bytes)
        if not 0 <= self.bucket_bits <= MAX_BUCKET_BITS:
            raise ConfigError(f"bucket_bits must be in 0..{MAX_BUCKET_BITS}",
                              bucket_bits=self.bucket_bits)
        if self.payload_format not in ("bytes", "json"):
            raise ConfigError("payload_format must be bytes or json",
                              payload_format=self.payload_format)
        if self.case not in ("lower", "upper", "keep"):
            raise ConfigError("case must be lower, upper or keep", case=self.case)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self) | {"columns": list(self.columns)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TableSettings:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(**(raw | {"columns": tuple(raw.get("columns", ()))}))
        except TypeError as exc:
            raise ConfigError("malformed table settings") from exc
