"""Keys that seal the audit chain, kept outside the database.

Two secrets protect the trail against someone who can write the node database but not the
node's files:

* the **audit MAC key**, 32 bytes from :mod:`secrets` in a file of mode 0600 (by default
  ``home/identity/audit.key``): every entry carries ``mac = HMAC-SHA256(key, hash)`` (RFC 2104)
  over its chained SHA-256 hash, so an entry cannot be added, edited or re-chained without it;
* the node's **Ed25519 signing key** (RFC 8032, :mod:`coalition.node.signing`): it signs
  *checkpoints* ``(node, seq, head hash, time)``, the latest of which is kept in a file outside
  the database (by default ``home/identity/audit-checkpoint.json``). Deleting the newest
  entries up to or past a checkpoint is detected; anyone holding the public key can check a
  checkpoint against an exported trail without any secret.

Who learns what: the MAC key and the signing seed never leave the node; the checkpoint and the
public key are safe to publish. What remains (see ``docs/security.md``): entries newer than the
last checkpoint can be truncated unnoticed, and an attacker holding both key files can rewrite
everything until partners co-sign checkpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from coalition.core.errors import ConfigError, CryptoError
from coalition.crypto.signing import SigningKey, VerifyKey
from coalition.node.db.types import utcnow

__all__ = ["KEY_BYTES", "AuditSeal", "Checkpoint", "create_mac_key", "read_mac_key"]

KEY_BYTES = 32
_DOMAIN = b"coalition-audit-checkpoint-v1\n"
_file_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _file_locks.setdefault(path, threading.Lock())


def create_mac_key(path: Path) -> bytes:
    """Write a fresh 32-byte key to ``path`` (mode 0600); refuses to overwrite an existing one."""
    key = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_EXCL: a second writer must not replace a key that already sealed entries.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key


def read_mac_key(path: Path) -> bytes:
    """The key in ``path``; a missing or malformed file is a :class:`ConfigError`."""
    try:
        key = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError("audit key file missing", path=str(path)) from exc
    if len(key) != KEY_BYTES:
        raise ConfigError("audit key file is not a 32-byte key", path=str(path))
    return key


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement "entry ``seq`` of ``node``'s trail has hash ``head``" at time ``at``."""

    node: str
    seq: int
    head: str
    at: str
    signer: str  # hex public key in the node's crypto suite (Ed25519 or SM2)
    signature: str  # hex

    def message(self) -> bytes:
        """The signed bytes: a domain tag and canonical JSON of the fields."""
        body = {"node": self.node, "seq": self.seq, "head": self.head, "at": self.at}
        return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def check(self, key: VerifyKey) -> None:
        """Raise :class:`CryptoError` unless ``key`` signed this checkpoint."""
        if self.signer != key.to_bytes().hex():
            raise CryptoError("checkpoint signed by another key")
        try:
            signature = bytes.fromhex(self.signature)
        except ValueError as exc:
            raise CryptoError("checkpoint signature is not hex") from exc
        key.verify(self.message(), signature, suite=key.suite)


@dataclass
class AuditSeal:
    """The MAC key, the checkpoint signer and where the latest checkpoint lives."""

    mac_key: bytes = field(repr=False)  # a secret: never in a repr or a log line
    signer: SigningKey
    checkpoint_path: Path
    node: str
    every: int
    latest: tuple[int, str] | None = None  # newest entry this process saw committed
    frozen: bool = False  # set when the trail failed verification: sign nothing over it

    def mac(self, entry_hash: str) -> str:
        """HMAC-SHA256 of an entry's chained hash, lowercase hex."""
        return hmac.new(self.mac_key, entry_hash.encode(), hashlib.sha256).hexdigest()

    def mac_ok(self, entry_hash: str, mac: str | None) -> bool:
        """Constant-time check of an entry's MAC."""
        return mac is not None and hmac.compare_digest(self.mac(entry_hash), mac)

    def read_checkpoint(self) -> Checkpoint | None:
        """The latest checkpoint, signature checked; ``None`` if there is none yet."""
        try:
            raw = json.loads(self.checkpoint_path.read_text(encoding="utf-8"))
            cp = Checkpoint(node=str(raw["node"]), seq=int(raw["seq"]), head=str(raw["head"]),
                            at=str(raw["at"]), signer=str(raw["signer"]),
                            signature=str(raw["signature"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CryptoError("audit checkpoint file is unreadable") from exc
        cp.check(self.signer.verify_key)
        if cp.node != self.node:
            raise CryptoError("audit checkpoint names another node")
        return cp

    def committed(self, seq: int, head: str) -> None:
        """Note a committed entry; sign a checkpoint once ``every`` entries have passed."""
        with _lock_for(self.checkpoint_path):
            if self.latest is None or seq > self.latest[0]:
                self.latest = (seq, head)
        last = self._file_seq()
        if last is None or seq - last >= self.every:
            self.checkpoint(seq, head)

    def checkpoint_latest(self) -> None:
        """Sign a checkpoint of the newest entry this process committed (at stop)."""
        if self.latest is not None:
            self.checkpoint(*self.latest)

    def checkpoint(self, seq: int, head: str) -> Checkpoint | None:
        """Sign ``(seq, head)`` and replace the checkpoint file, never moving it backwards."""
        if self.frozen:
            return None
        with _lock_for(self.checkpoint_path):
            last = self._file_seq()
            if last is not None and seq <= last:
                return None
            unsigned = Checkpoint(self.node, seq, head, utcnow().isoformat(),
                                  self.signer.verify_key.to_bytes().hex(), "")
            cp = Checkpoint(**{**asdict(unsigned),
                               "signature": self.signer.sign(unsigned.message()).hex()})
            tmp = self.checkpoint_path.with_name(self.checkpoint_path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(asdict(cp), fh, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.checkpoint_path)  # atomic: a crash leaves the old or the new
            return cp

    def force_checkpoint(self, seq: int, head: str) -> Checkpoint:
        """Replace the checkpoint even with a lower ``seq`` (operator acceptance only)."""
        with _lock_for(self.checkpoint_path):
            self.checkpoint_path.unlink(missing_ok=True)
        cp = self.checkpoint(seq, head)
        if cp is None:
            raise ConfigError("audit checkpoint could not be written")
        return cp

    def _file_seq(self) -> int | None:
        try:
            return int(json.loads(self.checkpoint_path.read_text(encoding="utf-8"))["seq"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
