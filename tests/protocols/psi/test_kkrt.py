"""KKRT16 PSI end to end: exactness on many random instances, delivery modes, streaming in
chunks, and what crosses the wire."""

import hashlib
from functools import partial

import numpy as np
import pytest

from coalition.core import Party
from coalition.core.errors import ConfigError, PeerError
from coalition.crypto.sm import sm3
from coalition.protocols.psi.inputs import IdSet
from coalition.protocols.psi.kkrt import run_kkrt_guest, run_kkrt_host
from coalition.protocols.psi.kkrt.hashing import codewords, derive_keys, hash_ids
from coalition.protocols.psi.session import open_session
from coalition.protocols.psi.spec import PsiParams, PsiProtocol
from coalition.testing import PartyFailure, Recorder, find_leaks, run_parties

G, H = Party.guest(), Party.host("h1")


def kkrt_params(**fields):
    """``protocol="kkrt"`` params (built without the spec's validator until it accepts kkrt)."""
    try:
        return PsiParams.parse({"protocol": "kkrt", **fields})
    except ConfigError:
        base = PsiParams.parse(fields).model_dump()
        return PsiParams.model_construct(**{**base, "protocol": PsiProtocol.KKRT})


def guest_role(ctx, ids, params, chunk_bins=None):
    session = open_session(ctx, IdSet.build(ids), params, None)
    if chunk_bins is None:
        return run_kkrt_guest(session)
    return run_kkrt_guest(session, chunk_bins=chunk_bins)


def host_role(ctx, ids, params):
    return run_kkrt_host(open_session(ctx, IdSet.build(ids), params, None))


def run(gids, hids, *, recorder=None, chunk_bins=None, transport="memory", **fields):
    params = kkrt_params(**fields)
    out = run_parties({G: partial(guest_role, ids=gids, params=params, chunk_bins=chunk_bins),
                       H: partial(host_role, ids=hids, params=params)},
                      wrap=recorder.wrap if recorder else None, timeout=60,
                      transport=transport)
    return out[G], out[H]


def test_many_small_random_instances_are_exact():
    rng = np.random.default_rng(2016)
    for trial in range(24):
        universe = [f"u{trial}-{v}" for v in rng.integers(0, 10**6, size=200).tolist()]
        gids = list(rng.choice(universe, size=int(rng.integers(0, 80)), replace=False))
        hids = list(rng.choice(universe, size=int(rng.integers(1, 80)), replace=False))
        g, h = run(gids, hids, delivery="both", chunk_bins=64 * int(rng.integers(1, 4)))
        shared = sorted(set(gids) & set(hids))
        assert g.ids == h.ids == shared, trial
        assert [gids[i] for i in g.indices] == shared
        assert [hids[i] for i in h.indices] == shared


def test_both_learn_aligned_rows_and_the_run_is_reported():
    gids = [f"user{i}" for i in range(0, 3000)]
    hids = [f"user{i}" for i in range(1500, 4000)][::-1]
    g, h = run(gids, hids, delivery="both", chunk_bins=1024)
    shared = sorted(set(gids) & set(hids))
    assert g.size == h.size == 1500 and g.ids == h.ids == shared
    assert [hids[i] for i in h.indices] == shared
    assert g.summary.peer_sizes == {str(H): 2500} and h.summary.peer_sizes == {str(G): 3000}
    extra = g.summary.extra
    assert extra["bins"] >= 1.45 * 3000 and extra["code_bits"] == 512
    assert extra["chunk_bins"] == 1024 and extra["truncated_bytes"] == 8
    assert h.summary.bytes_received == g.summary.bytes_sent > extra["bins"] * 64
    default, _ = run(gids, hids)
    assert default.ids == shared and default.summary.extra["chunk_bins"] == 8192


def test_guest_only_delivery_tells_the_host_just_the_size():
    rec = Recorder()
    g, h = run(["a", "b", "c", "d"], ["c", "d", "e"], recorder=rec, delivery="guest")
    assert g.ids == ["c", "d"] and h.ids is None and h.indices is None and h.size == 2
    assert all(not m.key.endswith("result_positions") for m in rec.received_by(H))


def test_cardinality_delivery_is_refused():
    with pytest.raises(PartyFailure) as err:
        run(["a"], ["a"], delivery="cardinality")
    assert isinstance(err.value.error, ConfigError)


def test_edge_sets():
    g, h = run([], ["a", "b"])
    assert g.size == h.size == 0 and g.ids == h.ids == []
    g, h = run(["a", "b"], [])
    assert g.size == 0 and h.ids == []
    g, _ = run(["x"], ["y"])
    assert g.ids == []
    same = [f"id-{i}" for i in range(500)]
    g, h = run(same, same[::-1], chunk_bins=128)
    assert g.ids == h.ids == sorted(same)
    odd = ["日本語", "é", "a" * 300, "e\u0301", " padded ", "tab\tid"]
    g, _ = run([*odd, "only-guest"], ["only-host", *odd[::-1]])
    assert g.size == len(set(IdSet.build(odd).ids))


def test_three_parties_are_refused():
    params = kkrt_params()
    h2 = Party.host("h2")
    with pytest.raises(PartyFailure) as err:
        run_parties({G: partial(guest_role, ids=["a"], params=params),
                     H: partial(host_role, ids=["a"], params=params),
                     h2: partial(host_role, ids=["a"], params=params)}, timeout=5)
    assert isinstance(err.value.error, ConfigError | PeerError)


def _session_keys(rec, suite="standard"):
    """Both parties' seeds, read off the hellos: what a test may use to recompute item hashes."""
    hellos = {m.sender: m.value() for m in rec.messages if m.key.endswith("/hello")}
    return derive_keys(hellos[G]["kkrt"]["seed"], hellos[H]["kkrt"], suite)


@pytest.mark.parametrize(("delivery", "suite"), [("both", "standard"), ("guest", "standard"),
                                                 ("both", "sm")])
def test_privacy_no_id_plain_hash_item_hash_or_codeword_leaves_a_party(delivery, suite):
    gids = [f"cust-{i:06d}" for i in range(0, 400)]
    hids = [f"cust-{i:06d}" for i in range(200, 700)]
    rec = Recorder()
    g, _ = run(gids, hids, recorder=rec, delivery=delivery, chunk_bins=256, suite=suite)
    assert g.ids == sorted(set(gids) & set(hids))
    keys = _session_keys(rec, suite)
    raws = gids + hids
    plain = [hashlib.sha256(x.encode()).digest() for x in raws]
    plain += [hashlib.blake2b(x.encode(), digest_size=16).digest() for x in raws]
    plain += [sm3(x.encode()) for x in raws]
    items = hash_ids(raws, keys)
    ours = [row.tobytes() for row in items] + [row.tobytes()[:8] for row in items]
    for i in range(3):
        ours += [blk.tobytes() for blk in codewords(keys, i, items).reshape(-1, 16)]
    for party in (G, H):
        assert find_leaks(rec.sent_by(party), raws + plain + ours) == []
    # the host sends exactly three lists of truncated values, nothing per-ID besides them
    lists = [m for m in rec.sent_by(H) if "/kkrt_values/" in m.key]
    assert sum(m.value().shape[0] for m in lists) == 3 * len(hids)


def test_values_do_not_follow_the_host_input_order():
    hids = [f"h{i:05d}" for i in range(2000)]  # input order = sorted order
    rec = Recorder()
    g, h = run(hids, hids, recorder=rec, delivery="both")
    assert g.ids == h.ids == hids
    positions = next(m.value() for m in rec.sent_by(G) if m.key.endswith("result_positions"))
    # positions of the sorted shared IDs in the host's lists: a secret permutation, not 0..n-1
    assert sorted(positions.tolist()) == list(range(2000))
    assert np.count_nonzero(positions == np.arange(2000)) < 20


@pytest.mark.slow
def test_two_processes_over_grpc():
    gids = [f"p{i}" for i in range(0, 20000)]
    hids = [f"p{i}" for i in range(10000, 25000)]
    g, h = run(gids, hids, transport="grpc", delivery="both", chunk_bins=8192)
    assert g.size == h.size == 10000 and g.ids == h.ids
