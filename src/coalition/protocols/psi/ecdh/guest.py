"""ECDH-PSI, 2 parties, guest role (Meadows 1986; Huberman, Franklin, Hogg 1999).

Guest ``G`` (IDs ``X``, key ``a``) and host ``H`` (IDs ``Y``, key ``b``); ``H`` hashes into the
prime-order subgroup of Curve25519 and ``[k]`` is X25519 (:mod:`coalition.crypto.ecdh`)::

    G -> H : [a]H(x) for x in X                  (guest order, batches)
    H -> G : [b]H(y) for y in Y                  (secretly shuffled by H, batches)
    H -> G : trunc_t([b][a]H(x))                 (guest order; shuffled in cardinality mode)
    G      : trunc_t([a][b]H(y)), match
    G -> H : positions of matches (both) or the size (guest, cardinality)

Every 32-byte value received from the peer is checked to be an element of the prime-order group
(not the identity) before our key touches it; anything else ends the run with
:class:`~coalition.core.errors.CryptoError` and nothing more is sent. Both sides announce the
hash/group suite in the hello; a peer on another suite is refused (:class:`ConfigError`).
The group is the federation's crypto suite (:mod:`coalition.crypto.suite`): Curve25519 under
``standard``, SM2 with SM3 hash-to-curve under ``sm``; the leakage below holds for both.

Who learns what (honest-but-curious, DDH in the prime-order group, ``H`` a random oracle):

* both learn ``|X|`` and ``|Y|``;
* ``both``: each learns ``X ∩ Y`` and its own rows in it — nothing about other members;
* ``guest``: the guest learns ``X ∩ Y``; the host learns only ``|X ∩ Y|``;
* ``cardinality``: the host shuffles the double-encrypted guest set before returning it, so the
  guest learns only ``|X ∩ Y|``, and tells the host.

Neither learns the other's non-shared IDs or row order. ``t`` is
:func:`~coalition.protocols.psi.spec.truncation_bytes` of both sizes (false match <= 2^-40).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coalition.core.errors import ConfigError, ProtocolError
from coalition.core.ids import Party
from coalition.crypto.suite import CommutativeCipher, primitives
from coalition.protocols.psi.matching import match, truncate
from coalition.protocols.psi.session import Session
from coalition.protocols.psi.spec import (
    NS_GUEST_DOUBLE,
    NS_GUEST_SET,
    NS_HOST_SET,
    PEER_REENCRYPTED,
    SELF_ENCRYPTED,
    PsiResult,
    truncation_bytes,
)
from coalition.protocols.psi.wire import batch_count, iter_batches, recv_batches

__all__ = ["check_suite", "ecdh_pair_guest", "run_ecdh_guest", "send_self_encrypted"]


def check_suite(hello: dict[str, Any], peer: Party, ours: str) -> None:
    """Refuse a peer whose hello names another ECDH suite than ``ours`` (or none: a pre-v2
    peer, whose hash leaks a curve/twist bit per ID and would only give an empty
    intersection)."""
    if hello.get("suite") != ours:
        raise ConfigError("peer uses another ECDH-PSI suite", peer=str(peer), ours=ours)


def send_self_encrypted(s: Session, to: list[Party], key: CommutativeCipher,
                        encoded: list[bytes], stream: str) -> None:
    """Stage one: hash, encrypt and stream ``encoded`` IDs in batches under ``stream``."""
    rows, ex = s.params.batch_rows, s.ctx.executor
    n = len(encoded)
    for i, batch_ctx in s.ctx.sub(stream).iter(batch_count(n, rows)):
        part = key.hash_encrypt(encoded[i * rows:(i + 1) * rows], executor=ex)
        batch_ctx.send(to, SELF_ENCRYPTED, part)
        s.tick("encrypt own IDs", min(n, (i + 1) * rows), n)


def run_ecdh_guest(s: Session) -> PsiResult:
    """Run the guest side; see the module docstring."""
    hosts = s.ctx.hosts
    if len(hosts) != 1:
        raise ProtocolError("2-party ECDH-PSI needs exactly one host", hosts=len(hosts))
    return ecdh_pair_guest(s, hosts[0])


def ecdh_pair_guest(s: Session, host: Party) -> PsiResult:
    """The guest side against one named ``host`` (also used by multi-party delivery)."""
    suite = primitives(s.params.suite)
    s.hello_to([host], suite=suite.ecdh_suite)
    hello = s.hello_from(host)
    check_suite(hello, host, suite.ecdh_suite)
    n_g, n_h = len(s.ids), hello["n"]
    width = truncation_bytes(n_g, n_h, s.params.stat_bits)
    s.extra["truncated_bytes"] = width
    key = suite.new_commutative_key()
    send_self_encrypted(s, [host], key, s.ids.encoded(), NS_GUEST_SET)

    rows = s.params.batch_rows
    theirs = []
    for i, part in enumerate(iter_batches(s.ctx.sub(NS_HOST_SET), host, SELF_ENCRYPTED, n_h,
                                          width=suite.value_bytes, batch_rows=rows)):
        theirs.append(truncate(key.encrypt(part, executor=s.ctx.executor), width))
        s.tick("re-encrypt peer IDs", min(n_h, (i + 1) * rows), n_h)
    peer_double = np.concatenate(theirs)
    own_double = recv_batches(s.ctx.sub(NS_GUEST_DOUBLE), host, PEER_REENCRYPTED, n_g,
                              width=width, batch_rows=rows)
    mine, positions = match(own_double, peer_double)
    s.tick("match", 1, 1)
    return s.deliver_as_guest(host, mine, positions)
