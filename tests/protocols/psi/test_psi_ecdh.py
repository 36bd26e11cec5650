import numpy as np
import pytest

from coalition.core import Party
from coalition.core.errors import ConfigError, InputError
from coalition.crypto.ecdh import hash_ids
from coalition.protocols.psi import (
    Delivery,
    PsiParams,
    read_id_column,
    run_guest,
    run_host,
)
from coalition.testing import PartyFailure, Recorder, find_leaks, run_parties

G, H = Party.guest(), Party.host("h1")
GUEST_IDS = [f"user{i}" for i in range(0, 300)]
HOST_IDS = [f"user{i}" for i in range(150, 500)][::-1]  # 150 shared, different order
SHARED = sorted(f"user{i}" for i in range(150, 300))


def _run(gids, hids, params, recorder=None):
    params = {"protocol": "ecdh", **params}  # this module tests the ECDH engine
    out = run_parties({G: lambda ctx: run_guest(ctx, gids, params),
                       H: lambda ctx: run_host(ctx, hids, params)},
                      wrap=recorder.wrap if recorder else None, timeout=30)
    return out[G], out[H]


def test_both_learn_aligned_rows():
    g, h = _run(GUEST_IDS, HOST_IDS, {"batch_rows": 256})
    assert g.size == h.size == 150
    assert g.ids == h.ids == SHARED
    assert [GUEST_IDS[i] for i in g.indices] == SHARED
    assert [HOST_IDS[i] for i in h.indices] == SHARED
    assert g.summary.peer_sizes == {str(H): 350}
    assert g.summary.bytes_sent > 0 and h.summary.bytes_received == g.summary.bytes_sent


def test_guest_only_and_cardinality():
    g, h = _run(GUEST_IDS, HOST_IDS, {"delivery": "guest"})
    assert g.ids == SHARED and h.ids is None and h.indices is None and h.size == 150
    g, h = _run(GUEST_IDS, HOST_IDS, {"delivery": "cardinality"})
    assert g.ids is None and h.ids is None and g.size == h.size == 150


def test_empty_sets_and_empty_intersection():
    g, h = _run([], HOST_IDS, {})
    assert g.size == h.size == 0 and g.ids == [] and h.ids == []
    g, h = _run(["a", "b"], ["c"], {})
    assert g.size == 0 and g.ids == [] and len(g.indices) == 0


def test_duplicates_and_canonicalisation():
    g, _h = _run([" Alice ", "alice", "BOB", 7, 7.0], ["alice", "bob", "7"], {})
    assert g.ids == ["7", "alice", "bob"]
    assert list(g.indices) == [3, 0, 2]  # first occurrence rows
    assert g.summary.duplicates == 2
    with pytest.raises(PartyFailure) as err:
        _run(["a", "a"], ["a"], {"on_duplicate": "error"})
    assert isinstance(err.value.error, InputError)


def test_mismatched_params_are_refused():
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda ctx: run_guest(ctx, ["a"], {"delivery": "guest"}),
                     H: lambda ctx: run_host(ctx, ["a"], {})}, timeout=10)
    assert isinstance(err.value.error, ConfigError)


def test_bad_params():
    with pytest.raises(ConfigError):
        PsiParams.parse({"protocol": "kkrt", "delivery": "cardinality"})
    with pytest.raises(ConfigError):
        PsiParams.parse({"protocol": "oprf", "delivery": "cardinality"})


@pytest.mark.parametrize("delivery", list(Delivery))
def test_privacy_no_raw_ids_or_plain_hashes_on_the_wire(delivery):
    import hashlib

    rec = Recorder()
    g, h = _run(GUEST_IDS, HOST_IDS, {"delivery": delivery.value}, rec)
    raws = GUEST_IDS + HOST_IDS
    hashes = [hashlib.sha256(x.encode()).digest() for x in raws]
    hashes += [hashlib.sha256(x.encode()).digest()[:12] for x in raws]
    # the protocol's own hash-to-curve values H(x) (what gets encrypted) never travel either
    hashes += [bytes(row[:16]) for row in hash_ids([x.encode() for x in raws])]
    for party in (G, H):
        assert find_leaks(rec.sent_by(party), raws + hashes) == []
    if delivery != Delivery.BOTH:
        # the host never receives anything that names or points at intersection members
        to_host = rec.received_by(H)
        assert all(not k.endswith("result_positions") for k in (m.key for m in to_host))
        assert find_leaks(to_host, SHARED) == []
    if delivery == Delivery.CARDINALITY:
        assert g.ids is None and h.ids is None


def test_read_id_column(tmp_path):
    p = tmp_path / "ids.csv"
    p.write_text("id,x\n007,1\n008,2\n")
    assert read_id_column(p, "id").tolist() == ["007", "008"]
    pq = tmp_path / "ids.parquet"
    import pandas as pd

    pd.DataFrame({"id": ["a", "b"]}).to_parquet(pq)
    assert read_id_column(pq).tolist() == ["a", "b"]
    with pytest.raises(InputError):
        read_id_column(p, "nope")
    with pytest.raises(InputError):
        read_id_column(tmp_path / "missing.csv")


def test_numpy_and_pandas_inputs_coerce_consistently():
    import pandas as pd

    g, _h = _run(np.arange(10), pd.Series([str(i) for i in range(5, 15)]), {})
    assert g.ids == sorted(str(i) for i in range(5, 10))


def test_select_rows_of_own_table():
    import pandas as pd

    table = pd.DataFrame({"id": HOST_IDS, "x": range(len(HOST_IDS))})
    g, h = _run(GUEST_IDS, table["id"], {"delivery": "guest"})
    assert h.ids is None
    with pytest.raises(ConfigError):
        h.select(table)
    rows = g.select(pd.DataFrame({"id": GUEST_IDS}))
    assert rows["id"].tolist() == SHARED


def test_kkrt_is_reachable_through_the_role_entry_points():
    g, h = _run(GUEST_IDS, HOST_IDS, {"protocol": "kkrt"})
    assert g.ids == h.ids == SHARED and g.summary.protocol == "kkrt"


@pytest.mark.parametrize(("delivery", "hosts", "engine"), [
    ("both", 1, "kkrt"), ("guest", 1, "kkrt"), ("cardinality", 1, "ecdh"), ("both", 2, "ecdh")])
def test_auto_picks_kkrt_for_balanced_two_party_and_ecdh_otherwise(delivery, hosts, engine):
    assert PsiParams.parse({"delivery": delivery}).for_parties(hosts).protocol.value == engine
    assert PsiParams.parse({"protocol": "oprf"}).for_parties(1).protocol.value == "oprf"
