"""Finding 18: a hostile aggregator announces a SecAgg threshold ``t <= n/2``.

Bonawitz et al. (CCS 2017, §4 and the active-security discussion of §6) need ``t > n/2`` of a
client's group: the aggregator may tell some neighbours "u survived" (they send shares of u's
self-mask seed ``b_u``) and others "u dropped" (they send shares of u's mask key ``s_u``). With a
majority threshold the two disjoint groups cannot both reach ``t``; with ``t = 1`` one share of
each is the secret itself and the aggregator unmasks u's input. The client now checks the
threshold it is given before it shares anything.
"""

from __future__ import annotations

import numpy as np
import pytest

from coalition.core import Context, CryptoError, Party, ProtocolError
from coalition.protocols.horizontal.secagg import shamir
from coalition.protocols.horizontal.secagg.client import SecAggClient, mask_context
from coalition.protocols.horizontal.secagg.full import run_secagg_client
from coalition.protocols.horizontal.secagg.keys import KeyPair
from coalition.protocols.horizontal.secagg.prg import expand
from coalition.protocols.horizontal.secagg.quantize import reduce
from coalition.protocols.horizontal.secagg.spec import ADVERTISE, ROSTER, SHARES
from coalition.testing import PartyFailure, Recorder, run_parties

BITS, TAG = 32, "job/secagg/0"
NAMES = ("a", "b", "c")


def _split_view_attack(threshold: int, x: dict[str, np.ndarray]) -> np.ndarray | None:
    """Play the aggregator against three honest clients; its estimate of ``x["a"]`` (None when
    it cannot reconstruct the key)."""
    clients = {u: SecAggClient(u, TAG, BITS) for u in NAMES}
    adverts = {u: c.advertise() for u, c in clients.items()}
    index = {u: i + 1 for i, u in enumerate(NAMES)}
    shares = {u: clients[u].share_keys({"index": index, "threshold": threshold,
                                        "keys": {v: adverts[v] for v in NAMES if v != u}})
              for u in NAMES}
    masked = {v: clients[v].mask({"u2": list(NAMES), "ciphertexts": {
        u: shares[u][v] for u in NAMES if u != v}}, x[v]) for v in NAMES}
    # Inconsistent views: a and b hear "a survived, c dropped", c hears "a dropped".
    told_alive = {u: clients[u].unmask({"u3": ["a", "b"], "dropped": ["c"]}) for u in ("a", "b")}
    told_dead = clients["c"].unmask({"u3": ["b", "c"], "dropped": ["a"]})
    b_shares = {index[u]: r["b"]["a"] for u, r in told_alive.items()}
    sk_shares = {index["c"]: told_dead["sk"]["a"]}
    b_a = shamir.combine(b_shares, threshold)
    try:
        sk_a = KeyPair.from_int(shamir.combine(sk_shares, threshold))
    except CryptoError:  # not enough shares: the attack fails
        return None
    y = masked["a"].astype(np.uint64, copy=True)
    y -= expand(b_a.to_bytes(32, "big"), y.size, BITS)
    for v in ("b", "c"):  # "a" < v, so a added +PRG(s_av)
        y -= expand(sk_a.agree(adverts[v]["s_pk"], mask_context(TAG)), y.size, BITS)
    return reduce(y, BITS)


def _inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {u: rng.integers(0, 2**BITS, 16, dtype=np.uint64) for u in NAMES}


@pytest.mark.parametrize("threshold", [1])
def test_clients_refuse_a_minority_threshold_so_no_input_is_unmasked(threshold):
    # 3deb866: the clients share with t = 1 and the aggregator recovers x["a"] exactly
    with pytest.raises(ProtocolError, match="majority"):
        _split_view_attack(threshold, _inputs())


def test_majority_threshold_defeats_the_split_view_attack():
    x = _inputs()
    assert _split_view_attack(2, x) is None


@pytest.mark.parametrize(("size", "threshold"), [(4, 2), (4, 1), (5, 2), (3, 4), (3, 0)])
def test_client_checks_threshold_against_its_own_group(size, threshold):
    me = SecAggClient("n0", TAG, BITS)
    others = {f"n{i}": SecAggClient(f"n{i}", TAG, BITS).advertise() for i in range(1, size)}
    roster = {"index": {f"n{i}": i + 1 for i in range(size)}, "threshold": threshold,
              "keys": others}
    with pytest.raises(ProtocolError):
        me.share_keys(roster)
    roster["threshold"] = size // 2 + 1
    assert set(me.share_keys(roster)) == set(others)


def test_refusing_client_sends_no_share_through_the_real_protocol():
    """The aggregator role announces t = 1 over the hub; no client sends SHARES."""
    server = Party.arbiter()
    hosts = [Party.host(f"c{i}") for i in range(3)]

    def hostile(ctx: Context) -> None:
        adverts = {str(p): ctx.recv(p, ADVERTISE) for p in hosts}
        index = {str(p): i + 1 for i, p in enumerate(hosts)}
        for p in hosts:
            ctx.send(p, ROSTER, {"index": index, "threshold": 1, "keys": {
                v: k for v, k in adverts.items() if v != str(p)}})

    def client(ctx: Context) -> bool:
        return run_secagg_client(ctx, server, np.arange(8, dtype=np.uint64), BITS)

    rec = Recorder()
    with pytest.raises(PartyFailure):
        run_parties({server: hostile, **dict.fromkeys(hosts, client)}, wrap=rec.wrap, timeout=30)
    sent = [m.key for p in hosts for m in rec.sent_by(p)]
    assert sent and all(ADVERTISE.name in k for k in sent)
    assert not any(SHARES.name in k for k in sent)


def test_aggregator_refuses_a_configuration_that_announces_a_minority_threshold():
    from coalition.core import ConfigError
    from coalition.protocols.horizontal.secagg.session import ServerSession
    from coalition.protocols.horizontal.spec import SecAggConfig

    with pytest.raises(ConfigError):
        ServerSession(8, SecAggConfig(threshold_fraction=0.3), 1.0)
    assert ServerSession(8, SecAggConfig(threshold_fraction=0.5), 1.0).cfg.threshold_fraction == 0.5
