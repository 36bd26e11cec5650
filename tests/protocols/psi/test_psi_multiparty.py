import pytest

from coalition.core import Party
from coalition.protocols.psi import Delivery, run_guest, run_host
from coalition.testing import Recorder, find_leaks, run_parties

G, H1, H2 = Party.guest(), Party.host("h1"), Party.host("h2")
IDS = {
    G: [f"member-{i:05d}" for i in range(0, 120)],
    H1: [f"member-{i:05d}" for i in range(40, 200)],
    H2: [f"member-{i:05d}" for i in range(0, 80)] + [f"member-{i:05d}" for i in range(150, 250)],
}
ALL = sorted(f"member-{i:05d}" for i in range(40, 80))  # in all three


def _run(delivery, rec=None):
    p = {"delivery": delivery, "batch_rows": 256}
    roles = {G: lambda ctx: run_guest(ctx, IDS[G], p),
             H1: lambda ctx: run_host(ctx, IDS[H1], p),
             H2: lambda ctx: run_host(ctx, IDS[H2], p)}
    return run_parties(roles, wrap=rec.wrap if rec else None, timeout=30)


def test_all_learn_intersection_of_all_three():
    out = _run("both")
    for party in (G, H1, H2):
        r = out[party]
        assert r.size == 40 and r.ids == ALL
        assert [IDS[party][i] for i in r.indices] == ALL
    # what the combiner learns is reported explicitly: |H1 ∩ H2| (ids 40..79 and 150..199)
    assert out[H1].summary.extra["combiner_pairwise_sizes"] == {"0-1": 90}
    assert out[G].summary.extra["hosts_intersection_size"] == 90


@pytest.mark.parametrize("delivery", ["guest", "cardinality"])
def test_guest_only_and_cardinality(delivery):
    rec = Recorder()
    out = _run(delivery, rec)
    assert all(out[p].size == 40 for p in (G, H1, H2))
    assert out[H1].ids is None and out[H2].ids is None
    assert (out[G].ids is None) == (delivery == "cardinality")
    if delivery == "guest":
        assert out[G].ids == ALL
    raws = IDS[G] + IDS[H1] + IDS[H2]
    for party in (G, H1, H2):
        assert find_leaks(rec.sent_by(party), raws) == []


def test_privacy_all_learn_mode_sends_no_raw_ids():
    rec = Recorder()
    _run(Delivery.BOTH.value, rec)
    raws = IDS[G] + IDS[H1] + IDS[H2]
    for party in (G, H1, H2):
        assert find_leaks(rec.sent_by(party), raws) == []


def test_three_hosts_ring():
    h3 = Party.host("h3")
    ids3 = [f"member-{i:05d}" for i in range(60, 100)]
    p = {"delivery": "both", "batch_rows": 256}
    out = run_parties({G: lambda ctx: run_guest(ctx, IDS[G], p),
                       H1: lambda ctx: run_host(ctx, IDS[H1], p),
                       H2: lambda ctx: run_host(ctx, IDS[H2], p),
                       h3: lambda ctx: run_host(ctx, ids3, p)}, timeout=30)
    expect = sorted(f"member-{i:05d}" for i in range(60, 80))
    assert all(out[q].ids == expect for q in (G, H1, H2, h3))
