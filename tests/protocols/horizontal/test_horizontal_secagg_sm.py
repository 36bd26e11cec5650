"""SecAgg under the ``sm`` crypto suite (SM2 key agreement, HKDF-SM3, SM4-GCM shares, SM4-CTR
masks): the same sums as under ``standard``, with dropouts, and keys of the other suite refused."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.core import CryptoError
from coalition.crypto.sm import SM2
from coalition.protocols.horizontal.secagg import (
    ClientSession,
    SecAggClient,
    SecAggServer,
    ServerSession,
)
from coalition.protocols.horizontal.secagg.keys import KeyPair, open_share, seal_share
from coalition.protocols.horizontal.secagg.prg import expand, expand_for
from coalition.protocols.horizontal.spec import SecAggConfig


def test_sm_key_agreement_share_encryption_and_prg() -> None:
    a, b = KeyPair(suite="sm"), KeyPair(suite="sm")
    assert len(a.public) == 33 and SM2.is_valid_point(a.public)
    k_ab, k_ba = a.agree(b.public, b"ctx"), b.agree(a.public, b"ctx")
    assert k_ab == k_ba != a.agree(b.public, b"other")
    sealed = seal_share(k_ab, b"share", b"r|a|b", "sm")
    assert open_share(k_ba, sealed, b"r|a|b", "sm") == b"share"
    with pytest.raises(CryptoError):
        open_share(k_ba, sealed, b"r|c|b", "sm")
    with pytest.raises(CryptoError):  # an SM4-GCM share is no ChaCha20-Poly1305 share
        open_share(k_ba, sealed, b"r|a|b")
    assert KeyPair.from_int(a.to_int(), "sm").public == a.public
    with pytest.raises(CryptoError):  # an X25519 public key is not an SM2 point
        a.agree(KeyPair().public, b"ctx")
    seed = bytes(range(32))
    words = expand_for("sm")(seed, 1000, 48)
    assert words.max() < 2**48 and np.array_equal(words, expand_for("sm")(seed, 1000, 48))
    assert expand_for("standard") is expand
    assert not np.array_equal(words, expand(seed, 1000, 48))


@pytest.mark.parametrize("drops", [{}, {"c2": "shares"}, {"c3": "masked"}, {"c4": "unmask"}])
def test_full_protocol_sums_under_sm(drops) -> None:
    cfg = SecAggConfig(neighbours=4, modulus_bits=48, frac_bits=16, suite="sm")
    names = [f"c{i}" for i in range(6)]
    rng = np.random.default_rng(1)
    inputs = {u: rng.integers(0, 2**48, 20, dtype=np.uint64) for u in names}
    clients = {u: SecAggClient(u, "tag", 48, suite="sm") for u in names}
    server = SecAggServer("tag", 20, cfg)
    alive = lambda phase: [u for u in names if drops.get(u) not in phase]  # noqa: E731
    roster = server.roster({u: clients[u].advertise() for u in names})
    inbox = server.route({u: clients[u].share_keys(roster[u]) for u in alive(("shares",))})
    masked = {u: {"y": clients[u].mask(inbox[u], inputs[u])}
              for u in alive(("shares", "masked"))}
    surv = server.survivors(masked)
    total = server.unmask({u: clients[u].unmask(surv[u])
                           for u in alive(("shares", "masked", "unmask"))})
    expected = sum((inputs[u] for u in server.u3), np.zeros(20, np.uint64)) & np.uint64(2**48 - 1)
    np.testing.assert_array_equal(total, expected)
    for u, m in masked.items():
        assert np.mean(m["y"] == inputs[u]) < 0.1


def test_fast_path_under_sm_and_standard_keys_are_ignored() -> None:
    cfg = SecAggConfig(suite="sm")
    names = ["a", "b", "c"]
    clients = {u: ClientSession(u, "job", 64, suite="sm") for u in names}
    server = ServerSession(4, cfg, timeout=1.0)
    keys = {u: {"m_pk": c.reply(0, None, None)["m_pk"]} for u, c in clients.items()}
    # a client on the standard suite publishes a 32-byte X25519 key: not taken into the round
    keys["x"] = {"m_pk": ClientSession("x", "job", 64).reply(0, None, None)["m_pk"]}
    server.learn(keys, field=None)
    plan = server.plan([*names, "x"])
    assert set(plan) == set(names)
    inputs = {u: np.full(4, i + 1, dtype=np.uint64) for i, u in enumerate(names)}
    replies = {u: {"secagg": clients[u].reply(0, plan[u], inputs[u])} for u in names}
    total, _ = server.collect(plan, replies)
    assert total is not None
    np.testing.assert_array_equal(total.total, np.full(4, 6, dtype=np.uint64))
