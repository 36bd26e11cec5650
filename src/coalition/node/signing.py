"""The node's Ed25519 signing key (RFC 8032), kept next to its TLS identity.

The TLS identity (ECDSA P-256, :mod:`coalition.node.identity`) names the organisation to its
partners; this key signs the node's own model parts (:mod:`coalition.node.library`) and its
audit checkpoints (:mod:`coalition.node.audit.seal`), which is why it sits at the node's top
level, below both. It is created on first use in
``home/identity/model-signing.key`` (the 32-byte seed, file mode 0600) and never leaves the
node; only its public key appears in model views.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from coalition.core.errors import ConfigError
from coalition.crypto.signing import SigningKey
from coalition.node.settings import NodeSettings

__all__ = ["KEY_FILE", "signing_key"]

KEY_FILE = "model-signing.key"
_lock = threading.Lock()
_cache: dict[Path, SigningKey] = {}


def _create(path: Path) -> SigningKey:
    key = SigningKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes racing to create the key must not end up with different keys.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.to_seed())
    return key


def signing_key(settings: NodeSettings) -> SigningKey:
    """The node's model-signing key, created on first use."""
    path = (settings.identity_dir / KEY_FILE).resolve()
    with _lock:
        key = _cache.get(path)
        if key is not None:
            return key
        try:
            key = SigningKey(path.read_bytes())
        except FileNotFoundError:
            try:
                key = _create(path)
            except FileExistsError:
                key = SigningKey(path.read_bytes())
        except OSError as exc:
            raise ConfigError("cannot read the model-signing key", path=str(path)) from exc
        _cache[path] = key
        return key
