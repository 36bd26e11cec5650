"""SecAgg building blocks and the two state machines, without any transport."""

from __future__ import annotations

import numpy as np
import pytest

from coalition.core import CryptoError, EncodingOverflowError, ProtocolError
from coalition.protocols.horizontal.secagg import (
    ClientSession,
    RoundAborted,
    SecAggClient,
    SecAggServer,
    ServerSession,
    decode,
    encode,
    shamir,
)
from coalition.protocols.horizontal.secagg.graph import neighbourhoods, threshold_for
from coalition.protocols.horizontal.secagg.keys import KeyPair, open_share, seal_share
from coalition.protocols.horizontal.secagg.prg import expand
from coalition.protocols.horizontal.spec import SecAggConfig


def test_shamir_threshold() -> None:
    secret = 2**255 + 12345
    shares = shamir.split(secret, range(1, 8), 4)
    assert shamir.combine({x: shares[x] for x in (2, 5, 6, 7)}, 4) == secret
    # t-1 shares interpolate to something unrelated
    assert shamir.combine({x: shares[x] for x in (1, 2, 3)}, 3) != secret
    with pytest.raises(CryptoError):
        shamir.combine({1: shares[1]}, 4)


def test_prg_is_deterministic_and_reduced() -> None:
    seed = bytes(range(32))
    a, b = expand(seed, 1000, 32), expand(seed, 1000, 32)
    np.testing.assert_array_equal(a, b)
    assert a.max() < 2**32 and len(set(a.tolist())) > 990
    assert not np.array_equal(expand(bytes(32), 10, 64), expand(bytes(31) + b"\x01", 10, 64))


def test_fixed_point_sum_and_overflow() -> None:
    xs = [np.array([0.5, -1.25, 3e-3]), np.array([-0.75, 2.0, -1e-3])]
    total = sum(encode(x, 24, 40, scale=3, max_summands=2) for x in xs)
    np.testing.assert_allclose(decode(total, 24, 40), 3 * (xs[0] + xs[1]), atol=3 * 2**-24)
    with pytest.raises(EncodingOverflowError):
        encode(np.array([1e9]), 24, 40, max_summands=2)


def test_share_encryption_binds_sender_and_recipient() -> None:
    a, b = KeyPair(), KeyPair()
    k_ab, k_ba = a.agree(b.public, b"ctx"), b.agree(a.public, b"ctx")
    assert k_ab == k_ba
    sealed = seal_share(k_ab, b"share", b"r|a|b")
    assert open_share(k_ba, sealed, b"r|a|b") == b"share"
    with pytest.raises(CryptoError):
        open_share(k_ba, sealed, b"r|c|b")
    assert KeyPair.from_int(a.to_int()).public == a.public


def test_harary_graph_is_regular_and_symmetric() -> None:
    names = [f"c{i}" for i in range(10)]
    g = neighbourhoods(names, 4)
    assert all(len(v) == 4 for v in g.values())
    assert all(u in g[v] for u in g for v in g[u])
    assert neighbourhoods(names, None)["c0"] == names[1:]
    assert threshold_for(5, 0.5) == 3


def _run(n: int, drop_at: dict[str, str], neighbours: int | None = None):
    """All phases in memory; ``drop_at[name]`` is the phase whose message that client loses."""
    cfg = SecAggConfig(neighbours=neighbours, modulus_bits=48, frac_bits=16)
    names = [f"c{i}" for i in range(n)]
    rng = np.random.default_rng(0)
    inputs = {u: rng.integers(0, 2**48, 20, dtype=np.uint64) for u in names}
    clients = {u: SecAggClient(u, "tag", 48) for u in names}
    server = SecAggServer("tag", 20, cfg)
    alive = lambda phase: [u for u in names if drop_at.get(u) not in phase]  # noqa: E731
    roster = server.roster({u: clients[u].advertise() for u in alive(("advertise",))})
    shares = {u: clients[u].share_keys(roster[u]) for u in alive(("advertise", "shares"))}
    inbox = server.route(shares)
    masked = {u: {"y": clients[u].mask(inbox[u], inputs[u])}
              for u in alive(("advertise", "shares", "masked"))}
    surv = server.survivors(masked)
    resp = {u: clients[u].unmask(surv[u]) for u in alive(("advertise", "shares", "masked", "unmask"))}
    total = server.unmask(resp)
    expected = sum((inputs[u] for u in server.u3), np.zeros(20, np.uint64)) & np.uint64(2**48 - 1)
    return total, expected, masked, inputs


@pytest.mark.parametrize("neighbours", [None, 4])
@pytest.mark.parametrize("drops", [{}, {"c1": "advertise"}, {"c2": "shares"},
                                   {"c3": "masked", "c5": "masked"}, {"c4": "unmask"}])
def test_state_machines_sum_with_dropouts(neighbours, drops) -> None:
    total, expected, masked, inputs = _run(8, drops, neighbours)
    np.testing.assert_array_equal(total, expected)
    for u, m in masked.items():  # masked inputs look nothing like the inputs
        assert np.mean(m["y"] == inputs[u]) < 0.1


def test_too_many_dropouts_abort() -> None:
    with pytest.raises(RoundAborted):
        _run(5, {"c0": "masked", "c1": "masked", "c2": "masked"})


def test_client_refuses_to_unmask_a_client_twice() -> None:
    names = ["a", "b", "c"]
    clients = {u: SecAggClient(u, "t", 64) for u in names}
    server = SecAggServer("t", 4, SecAggConfig())
    roster = server.roster({u: c.advertise() for u, c in clients.items()})
    inbox = server.route({u: clients[u].share_keys(roster[u]) for u in names})
    clients["a"].mask(inbox["a"], np.zeros(4, np.uint64))
    with pytest.raises(ProtocolError):
        clients["a"].unmask({"u3": ["a", "b"], "dropped": ["b", "c"]})


def test_fast_path_masks_cancel_and_never_send_a_bare_input() -> None:
    cfg = SecAggConfig(neighbours=2)
    names = [f"c{i}" for i in range(5)]
    clients = {u: ClientSession(u, "job", 64) for u in names}
    server = ServerSession(6, cfg, timeout=1.0)
    server.learn({u: {"m_pk": c.reply(0, None, None)["m_pk"]} for u, c in clients.items()},
                 field=None)
    plan = server.plan(names)  # names stand in for parties: the session only uses str()
    inputs = {u: np.arange(6, dtype=np.uint64) * np.uint64(i + 1) for i, u in enumerate(names)}
    replies = {u: {"secagg": clients[u].reply(0, plan[u], inputs[u])} for u in names}
    for u in names:  # every masked input looks nothing like its input
        assert not np.any(replies[u]["secagg"]["masked"] == inputs[u])
    total, arrived = server.collect(plan, replies)
    assert total is not None and arrived == sorted(names)
    np.testing.assert_array_equal(total.total, sum(inputs.values()))
    # one missing input: no sum, and what arrived does not add up to the inputs' sum
    partial = {u: r for u, r in replies.items() if u != "c3"}
    assert server.collect(plan, partial) == (None, [u for u in sorted(names) if u != "c3"])
    assert not np.any(sum(r["secagg"]["masked"] for r in partial.values())
                      == sum(inputs[u] for u in partial))
    with pytest.raises(ProtocolError):
        ClientSession("c0", "job", 64).reply(0, {"peers": {}}, inputs["c0"])
