"""Parameters, message keys and canonical forms of private three-element verification.

The construction and who learns what: :mod:`coalition.protocols.verify3` (package docstring).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from coalition.core.context import MessageKey
from coalition.core.errors import InputError
from coalition.core.params import Params
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.psi.canonical import coerce_id, id_number, phone_digits

__all__ = [
    "DOMAIN",
    "FORMAT",
    "MAX_ELEMENTS",
    "TAG_BYTES",
    "V3_BLINDED",
    "V3_EVALUATED",
    "V3_HELLO",
    "V3_MANIFEST",
    "V3_TABLE",
    "Triple",
    "Verify3Flags",
    "Verify3Params",
    "canonical_triple",
    "oprf_inputs",
]

FORMAT = "coalition-verify3/1"
DOMAIN = b"coalition/verify3/v1"
TAG_BYTES = 16
ELEMENTS_PER_TRIPLE = 3
MAX_ELEMENTS = 3 << 20
_SPACES = re.compile(r"\s+")


class Verify3Params(Params):
    """Parameters both roles agree on (the bank's side sets them; the telco checks the suite)."""

    params_of = "verify3"

    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description="crypto suite: standard or sm")
    min_batch: int = Field(16, ge=1, le=1 << 16,
                           description="smallest padded batch, in triples (hides small batches)")
    batch_rows: int = Field(65_536, ge=256, le=4_194_304, description="rows per message")
    phone_country: str = Field("", pattern=r"^[0-9]{0,4}$",
                               description="country code prefixed to national phone numbers")


@dataclass(frozen=True)
class Triple:
    """One (phone, name, ID number) in canonical form."""

    phone: str
    name: str
    id_number: str


@dataclass(frozen=True)
class Verify3Flags:
    """The bank's answer for one triple: the telco has a record for the phone; its name
    equals the bank's; its ID number equals the bank's."""

    phone_found: bool
    name_match: bool
    id_match: bool

    @property
    def all_match(self) -> bool:
        """All three elements agree."""
        return self.phone_found and self.name_match and self.id_match


def _name(value: str) -> str:
    # NFKC folds full-width forms; inner runs of whitespace become one space; case-insensitive
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()


def canonical_triple(phone: Any, name: Any, id_no: Any, *, country: str = "") -> Triple:
    """The canonical form both sides use: phone digits (``+86 138-0013-8000`` and
    ``008613800138000`` agree), names NFKC with whitespace collapsed and case folded, ID
    numbers without separators and upper-cased. :class:`InputError` for a missing element."""
    text = [unicodedata.normalize("NFKC", coerce_id(v)).strip() for v in (phone, name, id_no)]
    out = Triple(phone_digits(text[0], default_country=country), _name(text[1]),
                 id_number(text[2]))
    if not (out.phone and out.name and out.id_number):
        raise InputError("empty element after canonicalisation")
    return out


def _field(value: str) -> bytes:
    raw = value.encode("utf-8")
    return len(raw).to_bytes(2, "big") + raw


def oprf_inputs(t: Triple) -> tuple[bytes, bytes, bytes]:
    """The three OPRF inputs of a triple, domain-separated and length-prefixed:
    ``("phone", phone)``, ``("name", phone, name)``, ``("id", phone, id)``. Binding the phone
    into the name and ID inputs makes a match tag say "this phone's record has this name"."""
    return (DOMAIN + b"|phone|" + _field(t.phone),
            DOMAIN + b"|name|" + _field(t.phone) + _field(t.name),
            DOMAIN + b"|id|" + _field(t.phone) + _field(t.id_number))


# -- message keys ---------------------------------------------------------------------------
V3_HELLO = MessageKey("v3_hello", "bank: suite, padded element count, digest of a cached table")
V3_MANIFEST = MessageKey("v3_manifest", "telco: epoch, rows, table digest, or a refusal")
V3_TABLE = MessageKey("v3_table", "telco: sorted match tags of every record, one batch")
V3_BLINDED = MessageKey("v3_blinded", "bank: blinded OPRF elements (padded batch)")
V3_EVALUATED = MessageKey("v3_evaluated", "telco: [k]B for each blinded element")
