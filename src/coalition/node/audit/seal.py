"""Keys that seal the audit chain, kept outside the database.

Two secrets protect the trail against someone who can write the node database but not the
node's files:

* the **audit MAC key**, 32 bytes from :mod:`secrets` in a file of mode 0600 (by default
  ``home/identity/audit.key``): every entry carries ``mac = HMAC-H(key, hash)`` (RFC 2104)
  over its chained ``H`` hash, so an entry cannot be added, edited or re-chained without it;
  ``H`` is SHA-256, or SM3 (GB/T 32905) on a node of the ``sm`` crypto suite, recorded per
  entry (:data:`ALGORITHMS`);
* the node's **signing key** in its suite (Ed25519, RFC 8032; SM2, GB/T 32918;
  :mod:`coalition.node.signing`): it signs *checkpoints* ``(node, seq, head hash, time)``, the
  latest of which is kept in a file outside the database (by default
  ``home/identity/audit-checkpoint.json``). Deleting the newest entries up to or past a
  checkpoint is detected; anyone holding the public key can check a checkpoint against an
  exported trail without any secret. A checkpoint records its suite; after the node switched
  suites, the checkpoint its former key signed still verifies with that key
  (:attr:`AuditSeal.former_keys`, read from the node's own key files) until the next one.

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
from coalition.crypto.sm.sm3 import hmac_sm3
from coalition.crypto.suite import CryptoSuite
from coalition.node.db.types import utcnow

__all__ = ["ALGORITHMS", "KEY_BYTES", "AuditSeal", "Checkpoint",
           "create_mac_key", "read_mac_key"]

KEY_BYTES = 32
ALGORITHMS = ("sha256", "sm3")
"""Hashes of the chain and its MACs: SHA-256/HMAC-SHA256, SM3/HMAC-SM3."""
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
    suite: str = CryptoSuite.STANDARD.value  # of the signature; absent in older files

    def message(self) -> bytes:
        """The signed bytes: a domain tag and canonical JSON of the fields (``suite`` among
        them unless ``standard``, so older checkpoints keep their exact bytes)."""
        body: dict[str, object] = {"node": self.node, "seq": self.seq, "head": self.head,
                                   "at": self.at}
        if self.suite != CryptoSuite.STANDARD.value:
            body["suite"] = self.suite
        return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def check(self, key: VerifyKey) -> None:
        """Raise :class:`CryptoError` unless ``key`` signed this checkpoint."""
        if self.signer != key.to_bytes().hex():
            raise CryptoError("checkpoint signed by another key")
        if self.suite != key.suite.value:
            raise CryptoError("checkpoint names another crypto suite than its key's")
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
    algorithm: str = "sha256"
    """Hash of new entries and their MACs (:func:`~coalition.crypto.suite.digest_alg` of the node's suite)."""
    former_keys: tuple[VerifyKey, ...] = ()
    """The node's own keys of its other suite (from its key files): a checkpoint signed before
    the node switched suites still verifies."""

    def mac(self, entry_hash: str, alg: str | None = None) -> str:
        """HMAC-SHA256 or HMAC-SM3 (``alg``, default :attr:`algorithm`) of an entry's chained
        hash, lowercase hex."""
        alg = alg or self.algorithm
        if alg == "sm3":
            return hmac_sm3(self.mac_key, entry_hash.encode()).hex()
        if alg != "sha256":
            raise ConfigError("unknown audit hash algorithm", alg=alg)
        return hmac.new(self.mac_key, entry_hash.encode(), hashlib.sha256).hexdigest()

    def mac_ok(self, entry_hash: str, mac: str | None, alg: str = "sha256") -> bool:
        """Constant-time check of an entry's MAC under the entry's algorithm."""
        return (mac is not None and alg in ALGORITHMS
                and hmac.compare_digest(self.mac(entry_hash, alg), mac))

    def read_checkpoint(self) -> Checkpoint | None:
        """The latest checkpoint, signature checked; ``None`` if there is none yet."""
        try:
            raw = json.loads(self.checkpoint_path.read_text(encoding="utf-8"))
            cp = Checkpoint(node=str(raw["node"]), seq=int(raw["seq"]), head=str(raw["head"]),
                            at=str(raw["at"]), signer=str(raw["signer"]),
                            signature=str(raw["signature"]),
                            suite=str(raw.get("suite", CryptoSuite.STANDARD.value)))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CryptoError("audit checkpoint file is unreadable") from exc
        cp.check(self._key_of(cp))
        if cp.node != self.node:
            raise CryptoError("audit checkpoint names another node")
        return cp

    def _key_of(self, cp: Checkpoint) -> VerifyKey:
        """The node's own key that the checkpoint names: the current one, or a former one of
        the suite it records (never a key from the file itself)."""
        for key in (self.signer.verify_key, *self.former_keys):
            if key.suite.value == cp.suite and key.to_bytes().hex() == cp.signer:
                return key
        return self.signer.verify_key  # check() then refuses it: "signed by another key"

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
                                  self.signer.verify_key.to_bytes().hex(), "",
                                  self.signer.suite.value)
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
