import hashlib

import numpy as np
import pytest

from coalition.core import Party
from coalition.crypto.sm import sm3
from coalition.protocols.psi import ClientTableCache, IdSet, PrfTable, run_guest, run_host
from coalition.testing import Recorder, find_leaks, run_parties

G, H = Party.guest(), Party.host("big")
P = {"protocol": "oprf", "batch_rows": 256}


def _run(gids, hids, params=P, table=None, cache=None, rec=None):
    out = run_parties({G: lambda ctx: run_guest(ctx, gids, params, table_cache=cache),
                       H: lambda ctx: run_host(ctx, hids, params, prf_table=table)},
                      wrap=rec.wrap if rec else None, timeout=30)
    return out[G], out[H]


def test_unbalanced_both_learn():
    small = ["u3", "u7", "nobody", "u599"]
    big = [f"u{i}" for i in range(600)]
    g, h = _run(small, big)
    assert g.ids == h.ids == ["u3", "u599", "u7"]
    assert [big[i] for i in h.indices] == h.ids
    assert [small[i] for i in g.indices] == g.ids


def test_guest_only_delivery():
    g, h = _run(["a", "b"], ["b", "c"], {**P, "delivery": "guest"})
    assert g.ids == ["b"] and h.ids is None and h.size == 1


def test_cached_table_reruns_process_only_the_delta(tmp_path):
    table = PrfTable(tmp_path / "server", prf_bytes=12)
    cache = ClientTableCache(tmp_path / "client")
    big = [f"u{i}" for i in range(300)]
    g, h = _run(["u1", "u2", "x"], big, table=table, cache=cache)
    assert g.size == 2 and g.summary.extra["table_mode"] == "full"
    assert h.summary.extra["table_sync"]["added"] == 300

    # rows change: u1 deleted (tombstone), u900 added; reopen from disk as a new run would
    table2 = PrfTable(tmp_path / "server", prf_bytes=12)
    big2 = [x for x in big if x != "u1"] + ["u900"]
    g, h = _run(["u1", "u2", "u900"], big2, table=table2, cache=cache)
    assert g.ids == ["u2", "u900"]
    assert h.summary.extra["table_sync"] == {"added": 1, "removed": 1, "reused": 299,
                                             "version": 2}
    assert g.summary.extra["table_mode"] == "delta"
    assert g.summary.extra["table_delta"] == {"added": 1, "removed": 1}

    # nothing changed: zero PRF evaluations on the big side
    g, h = _run(["u2"], big2, table=table2, cache=cache)
    assert h.summary.extra["table_sync"]["added"] == 0 and g.size == 1

    # key rotation forces a rebuild and a full table for the client
    table2.rotate_key()
    g, h = _run(["u2", "u900"], big2, table=table2, cache=cache)
    assert h.summary.extra["table_sync"]["added"] == 300
    assert g.summary.extra["table_mode"] == "full" and g.size == 2


def test_prf_table_delta_cancels_add_then_remove():
    t = PrfTable(prf_bytes=12)
    t.sync(IdSet.build(["a", "b"]))
    epoch = t.epoch
    t.sync(IdSet.build(["a", "b", "c"]))
    t.sync(IdSet.build(["a", "b"]))
    added, removed = t.delta_since(epoch, 1)
    assert added.shape[0] == 0 and removed.shape[0] == 0
    assert t.delta_since("other-epoch", 1) is None
    assert np.array_equal(t.values_for(IdSet.build(["b"])), t.values_for(IdSet.build(["b", "a"]))[:1])


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_privacy_no_raw_ids_or_hashes_on_the_wire(suite):
    rec = Recorder()
    small = [f"customer-{i:06d}" for i in range(0, 40, 3)]  # long: no chance substring hits
    big = [f"customer-{i:06d}" for i in range(200)]
    g, _ = _run(small, big, {**P, "delivery": "guest", "suite": suite}, rec=rec)
    assert g.ids == sorted(set(small) & set(big))
    raws = small + big
    hashes = [hashlib.sha256(x.encode()).digest()[:16] for x in raws]
    hashes += [sm3(x.encode())[:16] for x in raws]
    assert find_leaks(rec.sent_by(G), raws + hashes) == []
    assert find_leaks(rec.sent_by(H), raws + hashes) == []
    assert all("result_positions" not in m.key for m in rec.received_by(H))


def test_oprf_with_three_parties_is_refused():
    from coalition.testing import PartyFailure

    H2 = Party.host("h2")
    with pytest.raises(PartyFailure):
        run_parties({G: lambda ctx: run_guest(ctx, ["a"], P),
                     H: lambda ctx: run_host(ctx, ["a"], P),
                     H2: lambda ctx: run_host(ctx, ["a"], P)}, timeout=5)
