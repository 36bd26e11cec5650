"""Database passwords of SQL datasets, encrypted under a key file the database never holds.

A SQL dataset's URL (``postgresql://user:password@host/db``) is stored with its password
replaced by ``csealv1.<key id>.<base64url(nonce | ciphertext)>``: ChaCha20-Poly1305 (RFC 8439)
under a 32-byte key from :mod:`secrets` kept in a 0600 file (by default
``home/identity/credentials.key``), with the rest of the URL (dialect, user, host, port,
database, query) as associated data. A node on the ``sm`` crypto suite seals with SM4-GCM
(GB/T 32907, RFC 8998) under a 16-byte key derived from the same file by HKDF-SM3, as
``csealsm4.<key id>.<…>``; both prefixes open under either suite, so passwords sealed before a
suite switch keep working (and are resealed under the new suite at the next start). So a copy of ``node.db`` reveals no password, and someone
who can write the database cannot re-point a sealed password at a server of theirs: changing any
part of the URL makes decryption fail.

Views (API, logs, partners) show the URL with ``***`` for the password. The node decrypts only
at the moment it connects (:func:`open_url`, called by :mod:`coalition.node.data.reading` and the
serving feature source). Keys are registered per process by key id, so several nodes can live
in one process (tests) without sharing keys.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from coalition.core.errors import ConfigError, CryptoError
from coalition.crypto.sm.sm3 import hkdf_sm3
from coalition.crypto.sm.sm4 import Sm4Gcm
from coalition.crypto.suite import Aead, CryptoSuite

__all__ = ["PREFIX", "SM_PREFIX", "is_sealed", "load_or_create_key", "open_url", "register_key",
           "seal_url"]

PREFIX = "csealv1."
SM_PREFIX = "csealsm4."
_PREFIXES = (PREFIX, SM_PREFIX)
_NONCE = 12
_keys: dict[str, bytes] = {}
_lock = threading.Lock()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"coalition-credentials-key\n" + key).hexdigest()[:16]


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``, created (mode 0600, exclusively) on first use."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_key(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
    if len(key) != 32:
        raise ConfigError("credentials key file is not a 32-byte key", path=str(path))
    return key


def register_key(key: bytes) -> str:
    """Make ``key`` available to :func:`open_url` in this process; returns its id."""
    key_id = _key_id(key)
    with _lock:
        _keys[key_id] = key
    return key_id


def _cipher(prefix: str, key: bytes) -> Aead:
    if prefix == SM_PREFIX:
        return Sm4Gcm(hkdf_sm3(key, length=16, info=b"coalition/credentials/sm4-gcm"))
    return ChaCha20Poly1305(key)


def _prefix_of(suite: CryptoSuite | str) -> str:
    return SM_PREFIX if CryptoSuite(suite) == CryptoSuite.SM else PREFIX


def _aad(url: sa.URL) -> bytes:
    return url._replace(password=None).render_as_string(hide_password=False).encode()


def is_sealed(location: str, suite: CryptoSuite | str | None = None) -> bool:
    """Whether a stored SQL URL carries a sealed password (or none at all); with ``suite``,
    sealed under that suite's cipher."""
    password = sa.make_url(location).password
    if password is None:
        return True
    prefixes = _PREFIXES if suite is None else (_prefix_of(suite),)
    return str(password).startswith(prefixes)


def seal_url(key: bytes, location: str,
             suite: CryptoSuite | str = CryptoSuite.STANDARD) -> str:
    """``location`` with its password (if any) encrypted under ``key`` with the suite's cipher
    (ChaCha20-Poly1305, or SM4-GCM under ``sm``); a password sealed under the other suite is
    opened and resealed."""
    url = sa.make_url(location)
    if url.password is None or is_sealed(location, suite):
        return location
    if str(url.password).startswith(_PREFIXES):
        url = sa.make_url(open_url(location))
    prefix = _prefix_of(suite)
    nonce = secrets.token_bytes(_NONCE)
    sealed = _cipher(prefix, key).encrypt(nonce, str(url.password).encode(), _aad(url))
    token = prefix + _key_id(key) + "." + base64.urlsafe_b64encode(nonce + sealed).decode()
    return url._replace(password=token).render_as_string(hide_password=False)


def open_url(location: str) -> str:
    """The usable URL: the sealed password decrypted; unsealed URLs pass unchanged.

    Fails with :class:`CryptoError` (naming nothing of the URL) when the key is unknown here or
    any part of the URL was changed after sealing.
    """
    url = sa.make_url(location)
    password = None if url.password is None else str(url.password)
    prefix = next((p for p in _PREFIXES if password is not None and password.startswith(p)), None)
    if password is None or prefix is None:
        return location
    try:
        key_id, blob = password.removeprefix(prefix).split(".", 1)
        raw = base64.urlsafe_b64decode(blob.encode())
    except ValueError as exc:
        raise CryptoError("sealed database password is malformed") from exc
    with _lock:
        key = _keys.get(key_id)
    if key is None:
        raise CryptoError("no credentials key for this sealed database password")
    try:
        plain = _cipher(prefix, key).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(url))
    except (InvalidTag, CryptoError) as exc:
        raise CryptoError("sealed database password does not match its URL") from exc
    return url._replace(password=plain.decode()).render_as_string(hide_password=False)
