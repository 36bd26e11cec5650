"""The server operator's settings of one PIR table (fixed for the table's life; published in
its manifest), on the parameter contract (:class:`coalition.core.Params`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from coalition.core.errors import ConfigError
from coalition.core.params import Params
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.pir.records import MAX_PAYLOAD
from coalition.protocols.pir.spec import MAX_BUCKET_BITS

__all__ = ["TableSettings"]

class TableSettings(Params):
    """One PIR table's settings: ``TableSettings("telco-risk", 32, bucket_bits=10)``.

    An invalid setting is one :class:`ConfigError` listing every problem (the contract of
    :class:`~coalition.core.params.Params`).
    """

    params_of = "PIR table"

    table_id: str = Field(min_length=1, description=(
        "names the table in manifests and in each record's associated data (1..200 bytes)"))
    payload_bytes: int = Field(gt=0, le=MAX_PAYLOAD,
                               description="fixed padded payload length of every record")
    bucket_bits: int = Field(8, ge=0, le=MAX_BUCKET_BITS, description=(
        "prefix length of bucketed queries (2**bits buckets) and the Merkle tree's depth"))
    payload_format: Literal["bytes", "json"] = Field(
        "bytes", description="bytes, or json (an object over columns)")
    columns: tuple[str, ...] = Field((), description="payload columns of a json table")
    case: Literal["lower", "upper", "keep"] = Field(
        "lower", description="the ID canonicalisation both sides apply")
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite of the OPRF/OT group, tags and record AEAD: standard or sm (SM2/SM3/SM4)"))

    def __init__(self, table_id: str, payload_bytes: int, **data: Any) -> None:
        super().__init__(table_id=table_id, payload_bytes=payload_bytes, **data)

    # ``table_id`` and ``payload_bytes`` by position, as the operator's API always took them; as
    # in Params.__init__, validation from a mapping (parse, nested fields) skips this wrapper
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("table_id")
    @classmethod
    def _short_enough(cls, value: str) -> str:
        if len(value.encode("utf-8")) > 200:
            raise ValueError("must be 1..200 bytes in UTF-8")
        return value

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TableSettings:
        """Inverse of :meth:`to_dict` (:class:`ConfigError` on anything else)."""
        if not isinstance(raw, dict):
            raise ConfigError("malformed table settings")
        return cls.parse(raw)
