"""The node's signing key in its crypto suite (Ed25519, RFC 8032; or SM2, GB/T 32918 under
``crypto_suite: sm``), kept next to its TLS identity.

The TLS identity (ECDSA P-256, :mod:`coalition.node.identity`) names the organisation to its
partners; this key signs the node's own model parts (:mod:`coalition.node.library`) and its
audit checkpoints (:mod:`coalition.node.audit.seal`), which is why it sits at the node's top
level, below both. It is created on first use in
``home/identity/model-signing.key`` (Ed25519) or ``model-signing-sm2.key`` (SM2) — the 32-byte
secret, file mode 0600 — and never leaves the node; only its public key appears in model
views. A node switched to another suite signs with that suite's key from then on; parts signed
under the old one no longer verify as its own (see :mod:`coalition.node.library.integrity`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from coalition.core.errors import ConfigError
from coalition.crypto.signing import SigningKey, VerifyKey
from coalition.crypto.suite import CryptoSuite
from coalition.node.settings import NodeSettings

__all__ = ["KEY_FILE", "SM2_KEY_FILE", "former_verify_keys", "signing_key"]

KEY_FILE = "model-signing.key"
SM2_KEY_FILE = "model-signing-sm2.key"
_lock = threading.Lock()
_cache: dict[Path, SigningKey] = {}


def _create(path: Path, suite: CryptoSuite) -> SigningKey:
    key = SigningKey.generate(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes racing to create the key must not end up with different keys.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.to_seed())
    return key


def _file_of(suite: CryptoSuite) -> str:
    return SM2_KEY_FILE if suite == CryptoSuite.SM else KEY_FILE


def former_verify_keys(settings: NodeSettings) -> tuple[VerifyKey, ...]:
    """The public keys of the node's own signing keys in its *other* suites, where their files
    exist (a node switched suites): what its older audit checkpoints were signed with. Never
    creates a key."""
    out: list[VerifyKey] = []
    for suite in CryptoSuite:
        if suite == settings.crypto_suite:
            continue
        path = settings.identity_dir / _file_of(suite)
        try:
            out.append(SigningKey(path.read_bytes(), suite).verify_key)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigError("cannot read a former signing key", path=str(path)) from exc
    return tuple(out)


def signing_key(settings: NodeSettings) -> SigningKey:
    """The node's model-signing key in its crypto suite, created on first use."""
    suite = settings.crypto_suite
    path = (settings.identity_dir / _file_of(suite)).resolve()
    with _lock:
        key = _cache.get(path)
        if key is not None:
            return key
        try:
            key = SigningKey(path.read_bytes(), suite)
        except FileNotFoundError:
            try:
                key = _create(path, suite)
            except FileExistsError:
                key = SigningKey(path.read_bytes(), suite)
        except OSError as exc:
            raise ConfigError("cannot read the model-signing key", path=str(path)) from exc
        _cache[path] = key
        return key
