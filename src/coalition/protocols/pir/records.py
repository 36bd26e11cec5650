"""The encrypted record of one table row, and the keys derived from its OPRF value.

For a row with ID ``x`` in epoch ``e`` (OPRF key ``k_e``), with ``F = F(k_e, x)[:32]``
(:mod:`coalition.crypto.oprf`, RFC 9497 style):

* ``tag = HKDF-Expand(F, "coalition-pir/tag", 16)`` — the public lookup key;
* ``key = HKDF-Expand(F, "coalition-pir/aead", 32)`` — the row's ChaCha20-Poly1305 key
  (RFC 8439); HKDF-Expand is RFC 5869 §2.3 with HMAC-SHA256 (one block; the Extract step is
  skipped as §3.3 allows, ``F`` being a uniformly random PRF output);
* plaintext = 2-byte length || payload || zero padding, always ``payload_bytes + 2`` bytes, so
  ciphertexts do not reveal payload lengths;
* nonce = the table version that encrypted the row (12 bytes): a changed payload of the same ID
  in the same epoch is re-encrypted under a new version, so a (key, nonce) pair never repeats;
* associated data binds the format, the table ID, the epoch, the row's slot (a per-epoch row
  number that is never reused) and the tag, so a record cannot be moved between rows, tables or
  epochs without failing authentication.

Under the ``sm`` crypto suite (the table's ``suite`` setting) HMAC-SM3 replaces HMAC-SHA256
and SM4-GCM (RFC 8998, under the first 16 bytes of ``key``) replaces ChaCha20-Poly1305: the
same layout and widths.

A record is ``tag(16) || slot(8) || version(4) || ciphertext(payload_bytes + 18)``, fixed width.
Whoever lacks ``F(k_e, x)`` cannot link a tag to ``x`` or decrypt its ciphertext.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from coalition.core.errors import CryptoError, InputError
from coalition.crypto.sm.sm4 import KEY_BYTES as SM4_KEY_BYTES
from coalition.crypto.sm.sm4 import Sm4Gcm
from coalition.crypto.suite import Aead, CryptoSuite, mac
from coalition.protocols.pir.spec import FORMAT

__all__ = [
    "PRF_BYTES",
    "TAG_BYTES",
    "RecordLayout",
    "derive_key",
    "derive_tag",
    "encrypt_chunk",
    "open_record",
    "pad_payloads",
    "tags_chunk",
    "unpad_payload",
]

U8 = npt.NDArray[np.uint8]
PRF_BYTES = 32
TAG_BYTES = 16
SLOT_BYTES = 8
VERSION_BYTES = 4
AEAD_OVERHEAD = 16
LEN_BYTES = 2
MAX_PAYLOAD = 0xFFFF
_TAG_INFO = b"coalition-pir/tag\x01"
_KEY_INFO = b"coalition-pir/aead\x01"


Suite = CryptoSuite | str


def _sm(suite: Suite) -> bool:
    return CryptoSuite(suite) == CryptoSuite.SM


def derive_tag(prf: bytes, suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """The row's public lookup tag (see module docstring)."""
    return mac(prf, _TAG_INFO, suite)[:TAG_BYTES]


def derive_key(prf: bytes, suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """The row's AEAD key (see module docstring)."""
    return mac(prf, _KEY_INFO, suite)


def _aead(prf: bytes, suite: Suite) -> Aead:
    key = derive_key(prf, suite)
    return Sm4Gcm(key[:SM4_KEY_BYTES]) if _sm(suite) else ChaCha20Poly1305(key)


class RecordLayout:
    """Field offsets of a fixed-width record for ``payload_bytes``."""

    def __init__(self, payload_bytes: int) -> None:
        if not 0 < payload_bytes <= MAX_PAYLOAD:
            raise InputError("payload_bytes must be in 1..65535", payload_bytes=payload_bytes)
        self.payload_bytes = payload_bytes
        self.plain_bytes = payload_bytes + LEN_BYTES
        self.cipher_bytes = self.plain_bytes + AEAD_OVERHEAD
        self.slot_at = TAG_BYTES
        self.version_at = self.slot_at + SLOT_BYTES
        self.cipher_at = self.version_at + VERSION_BYTES
        self.record_bytes = self.cipher_at + self.cipher_bytes


def associated_data(table_id: str, epoch: str, slot: bytes, tag: bytes) -> bytes:
    """What each ciphertext is bound to (see module docstring)."""
    tid = table_id.encode("utf-8")
    return (FORMAT.encode() + b"\x00" + len(tid).to_bytes(2, "big") + tid + epoch.encode()
            + slot + tag)


def pad_payloads(payloads: Sequence[bytes], payload_bytes: int) -> U8:
    """Length-prefixed, zero-padded plaintexts, ``(n, payload_bytes + 2)``."""
    layout = RecordLayout(payload_bytes)
    out = np.zeros((len(payloads), layout.plain_bytes), dtype=np.uint8)
    lengths = {len(p) for p in payloads}
    if len(lengths) == 1 and (n := lengths.pop()) <= payload_bytes:  # one numpy copy
        out[:, :LEN_BYTES] = np.frombuffer(n.to_bytes(LEN_BYTES, "big"), dtype=np.uint8)
        out[:, LEN_BYTES:LEN_BYTES + n] = np.frombuffer(b"".join(payloads), dtype=np.uint8
                                                        ).reshape(len(payloads), n)
        return out
    for i, p in enumerate(payloads):
        if len(p) > payload_bytes:
            raise InputError("payload longer than the table's payload_bytes", row=i,
                             length=len(p), payload_bytes=payload_bytes)
        out[i, :LEN_BYTES] = np.frombuffer(len(p).to_bytes(LEN_BYTES, "big"), dtype=np.uint8)
        out[i, LEN_BYTES:LEN_BYTES + len(p)] = np.frombuffer(p, dtype=np.uint8)
    return out


def unpad_payload(plain: bytes) -> bytes:
    """Inverse of :func:`pad_payloads` for one row."""
    n = int.from_bytes(plain[:LEN_BYTES], "big")
    if n > len(plain) - LEN_BYTES:
        raise CryptoError("malformed padded payload")
    return plain[LEN_BYTES:LEN_BYTES + n]


def tags_chunk(prfs: U8, suite: Suite = CryptoSuite.STANDARD) -> U8:
    """:func:`derive_tag` of each row of an ``(n, 32)`` array, ``(n, 16)``."""
    data = prfs.tobytes()
    raw = b"".join(derive_tag(data[i:i + PRF_BYTES], suite)
                   for i in range(0, len(data), PRF_BYTES))
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, TAG_BYTES).copy()


def encrypt_chunk(args: tuple[U8, U8, npt.NDArray[np.int64], int, str, str]
                  | tuple[U8, U8, npt.NDArray[np.int64], int, str, str, str]) -> U8:
    """Encrypt a chunk of rows into records. ``args = (prfs (n, 32), plains (n, P+2), slots,
    version, table_id, epoch[, suite])``. Module-level, for ``executor.map``."""
    prfs, plains, slots, version, table_id, epoch = args[:6]
    suite = args[6] if len(args) == 7 else CryptoSuite.STANDARD.value
    layout = RecordLayout(plains.shape[1] - LEN_BYTES)
    nonce = version.to_bytes(12, "big")
    ver = version.to_bytes(VERSION_BYTES, "big")
    pdata, ptext = prfs.tobytes(), plains.tobytes()
    w = layout.plain_bytes
    prefix = associated_data(table_id, epoch, b"", b"")
    rows = []
    for i in range(prfs.shape[0]):
        prf = pdata[i * PRF_BYTES:(i + 1) * PRF_BYTES]
        tag = derive_tag(prf, suite)
        slot = int(slots[i]).to_bytes(SLOT_BYTES, "big")
        rows.append(tag + slot + ver + _aead(prf, suite).encrypt(
            nonce, ptext[i * w:(i + 1) * w], prefix + slot + tag))
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, layout.record_bytes).copy()


def open_record(record: bytes, prf: bytes, layout: RecordLayout, table_id: str,
                epoch: str, *, suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """Decrypt one record with the row's OPRF value; :class:`CryptoError` if it does not open."""
    tag = record[:TAG_BYTES]
    slot = record[layout.slot_at:layout.version_at]
    version = int.from_bytes(record[layout.version_at:layout.cipher_at], "big")
    try:
        plain = _aead(prf, suite).decrypt(
            version.to_bytes(12, "big"), record[layout.cipher_at:],
            associated_data(table_id, epoch, slot, tag))
    except (InvalidTag, CryptoError) as exc:
        raise CryptoError("record failed authentication (tampered or not ours)") from exc
    return unpad_payload(plain)
