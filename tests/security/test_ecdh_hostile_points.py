"""Finding 17: a hostile ECDH-PSI peer that sends values outside the prime-order group.

The attacker plays a partner through the real protocol roles: its channel rewrites one row of
the stage-one batch it sends (what an honest party would send as ``[k]H(x)``) into a small-order
point, a point with a torsion component, a twist point or a non-canonical encoding. Such values
are the classic levers against DH with a secret key (small-subgroup / invalid-point attacks,
Lim–Lee 1997); X25519's clamping and twist security blunt them against the key itself, but the
victim would still apply its key outside the prime-order group its privacy argument assumes
and hand the results back. The victim must refuse the batch with a
typed :class:`CryptoError` (code ``crypto.failed``) that does not echo the value, apply its key
to nothing, and send nothing further. On 3deb866 (X25519 on any u) only the values whose product
is all-zero were refused; twist, torsion and non-canonical values were used with the key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from nacl import bindings as sodium

from coalition.core import Party, codec
from coalition.core.context import Channel
from coalition.core.errors import ConfigError, CryptoError
from coalition.crypto.ecdh import CommutativeKey, hash_ids
from coalition.protocols.psi import run_guest, run_host
from coalition.testing import PartyFailure, Recorder, run_parties

P = 2**255 - 19
G, H1, H2 = Party.guest(), Party.host("h1"), Party.host("h2")

# edwards25519 point of order 8 (libsodium's small-order list), to add a torsion component
ORDER8_ED = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")


def _u(v: int) -> bytes:
    return v.to_bytes(32, "little")


def _ed_to_u(point: bytes) -> int:
    y = int.from_bytes(point, "little") & ((1 << 255) - 1)
    return (1 + y) * pow(1 - y, -1, P) % P


def _twist_u() -> int:
    return next(u for u in range(2, 200)
                if pow((u**3 + 486662 * u * u + u) % P, (P - 1) // 2, P) == P - 1)


def _with_order8_torsion(valid_u: bytes) -> bytes:
    # a subgroup point Q (from its u: y = (u-1)/(u+1), x's sign is irrelevant) plus T8
    u = int.from_bytes(valid_u, "little")
    y = (u - 1) * pow(u + 1, -1, P) % P
    return _u(_ed_to_u(bytes(sodium.crypto_core_ed25519_add(_u(y), ORDER8_ED))))


VALID = bytes(hash_ids([b"a valid element"])[0])
BAD: dict[str, bytes] = {
    "zero (order 2)": _u(0),
    "one (order 4)": _u(1),
    "order 8": bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    "order 8 (other)": bytes.fromhex(
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    "minus one": _u(P - 1),
    "twist point": _u(_twist_u()),
    "torsion: Q + (0,-1)": _u(pow(int.from_bytes(VALID, "little"), -1, P)),
    "torsion: Q + order-8 point": _with_order8_torsion(VALID),
    "non-canonical base point (9 + p)": _u(9 + P),
    "non-canonical: bit 255 set": _u(int.from_bytes(VALID, "little") | (1 << 255)),
    "non-canonical: p": _u(P),
}


@pytest.mark.parametrize("name", list(BAD))
def test_cipher_refuses_values_outside_the_group(name):
    key = CommutativeKey.generate()
    batch = np.frombuffer(VALID * 3 + BAD[name], dtype=np.uint8).reshape(-1, 32)
    with pytest.raises(CryptoError) as err:
        key.encrypt(batch)
    assert err.value.code == "crypto.failed"
    assert BAD[name].hex() not in str(err.value) and BAD[name].hex() not in repr(err.value.details)
    key.encrypt(batch[:3])  # the valid rows alone are accepted


class _Tamper:
    """The attacker's channel: replaces the last row of its first batch sent under ``key``."""

    def __init__(self, inner: Channel, key_suffix: str, bad: bytes) -> None:
        self._inner, self._suffix, self._bad, self._done = inner, key_suffix, bad, False

    @property
    def party(self) -> Party:
        return self._inner.party

    @property
    def parties(self) -> Any:
        return self._inner.parties

    def send(self, to: Party, key: str, payload: bytes) -> None:
        if not self._done and key.endswith(self._suffix):
            arr = np.array(codec.decode(payload), dtype=np.uint8)
            arr[-1] = np.frombuffer(self._bad, dtype=np.uint8)
            payload, self._done = codec.encode(arr), True
        self._inner.send(to, key, payload)

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        return self._inner.recv(frm, key, timeout)


def _attack(parties: list[Party], attacker: Party, bad: bytes, params: dict[str, Any],
            rec: Recorder, suffix: str = "self_encrypted") -> PartyFailure:
    ids = {p: [f"id{i}" for i in range(i0, i0 + 40)]
           for p, i0 in zip(parties, (0, 10, 20), strict=False)}
    roles = {p: (lambda ctx, p=p: (run_guest if p == G else run_host)(ctx, ids[p], params))
             for p in parties}

    def wrap(ch: Channel) -> Channel:
        inner: Channel = _Tamper(ch, suffix, bad) if ch.party == attacker else ch
        return rec.wrap(inner)

    with pytest.raises(PartyFailure) as err:
        run_parties(roles, wrap=wrap, timeout=30)
    return err.value


SCENARIOS: list[tuple[str, list[Party], Party, Party, dict[str, Any], set[str]]] = [
    # (name, parties, attacker, victim, params, what the victim may have sent the attacker)
    ("hostile host vs guest", [G, H1], H1, G, {"delivery": "both"}, {"hello", "self_encrypted"}),
    ("hostile guest vs host", [G, H1], G, H1, {"delivery": "both"}, {"hello", "self_encrypted"}),
    ("hostile guest vs ring", [G, H1, H2], G, H1, {"delivery": "guest"},
     {"hello", "self_encrypted"}),
]
ATTACK_POINTS = ["order 8", "twist point", "torsion: Q + order-8 point",
                 "non-canonical: bit 255 set"]


@pytest.mark.parametrize("point", ATTACK_POINTS)
@pytest.mark.parametrize(("name", "parties", "attacker", "victim", "params", "allowed"),
                         SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_peer_sending_invalid_point_gets_typed_error_and_nothing_more(
        name, parties, attacker, victim, params, allowed, point):
    rec = Recorder()
    failure = _attack(parties, attacker, BAD[point], {"protocol": "ecdh", **params}, rec)
    assert failure.party == victim
    assert isinstance(failure.error, CryptoError) and failure.error.code == "crypto.failed"
    # the victim sent the attacker nothing computed with its key on the attacker's values:
    # only its hello and its own stage-one set (sent before it received anything)
    kinds = {m.key.rsplit("/", 1)[-1] for m in rec.sent_by(victim) if m.receiver == attacker}
    assert kinds <= allowed, kinds


def test_peer_on_the_old_suite_is_refused():
    """A peer whose hello does not name the prime-order suite (3deb866 peers) is refused before
    any value is exchanged, instead of silently computing an empty intersection."""

    class _OldHello(_Tamper):
        def send(self, to: Party, key: str, payload: bytes) -> None:
            if key.endswith("hello"):
                msg = codec.decode(payload)
                msg.pop("suite", None)
                payload = codec.encode(msg)
            self._inner.send(to, key, payload)

    roles: dict[Party, Callable[[Any], Any]] = {
        G: lambda ctx: run_guest(ctx, ["a", "b"], {"protocol": "ecdh"}),
        H1: lambda ctx: run_host(ctx, ["a", "c"], {"protocol": "ecdh"})}
    rec = Recorder()

    def wrap(ch: Channel) -> Channel:
        return rec.wrap(_OldHello(ch, "", b"") if ch.party == H1 else ch)

    with pytest.raises(PartyFailure) as err:
        run_parties(roles, wrap=wrap, timeout=30)
    assert isinstance(err.value.error, ConfigError)
    assert not [m for m in rec.sent_by(G) if m.key.endswith("self_encrypted")]
