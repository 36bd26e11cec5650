"""The alignment digests every vertical model sends follow the job's crypto suite: SHA-256 under
``standard`` (bytes of every earlier release), SM3 under ``sm``; same results under both, the
recorded wire carries the suite's digest, and parties on different suites fail together."""

import hashlib
from functools import partial

import numpy as np
import pytest
from cryptography.hazmat.primitives import hashes
from linear_roles import he_guest, he_host

from coalition.core import Party
from coalition.core.errors import InputError
from coalition.protocols.alignment import (
    check_alignment_guest,
    check_alignment_host,
    row_digests,
)
from coalition.protocols.linear import PartyTable
from coalition.protocols.linear.data import ids_digest
from coalition.testing import PartyFailure, Recorder, run_parties

G, H = Party.guest(), Party.host("h1")
IDS = ["alice", "bob", "carol", "张三"]
_FRAMED = b"".join(len(i.encode()).to_bytes(4, "big") + i.encode() for i in IDS)


def test_known_answers():
    assert ids_digest(IDS) == hashlib.sha256(_FRAMED).digest()
    assert ids_digest(IDS, "standard").hex() == (
        "fe57c82702cc0e660403febda52e7531d5955969c4cd6298f5663102cbcd9c76")
    sm = hashes.Hash(hashes.SM3())
    sm.update(_FRAMED)
    assert ids_digest(IDS, "sm") == sm.finalize()
    assert ids_digest(IDS, "sm").hex() == (
        "12eac29803e97fa7e4b9bb000ece5fa28d09236e9a38c0c44a70504ebbb9d964")
    assert ids_digest([], "sm") == hashes.Hash(hashes.SM3()).finalize()


def _table(rng, n, width, labels):
    ids = [f"id{i:04d}" for i in range(n)]
    x = rng.normal(size=(n, width))
    y = (x[:, 0] + rng.normal(size=n) > 0).astype(float) if labels else None
    return PartyTable.from_arrays(ids, x, y)


@pytest.fixture(scope="module")
def tables():
    rng = np.random.default_rng(7)
    return _table(rng, 120, 3, True), _table(rng, 120, 2, False)


_PARAMS = {"protocol": "he-guest", "key_bits": 1024, "allow_insecure_key": True, "epochs": 2,
           "batch_size": 120, "learning_rate": 0.2}


def _fit(tables, suite, wrap=None):
    guest, host = tables
    params = {**_PARAMS, "suite": suite}
    out = run_parties({G: partial(he_guest, params=params, table=guest),
                       H: partial(he_host, params=params, table=host)}, timeout=120, wrap=wrap)
    return out[G], out[H]


def test_he_lr_same_model_under_both_suites_and_the_wire_carries_the_suites_digest(tables):
    std = _fit(tables, "standard")
    rec = Recorder()
    sm = _fit(tables, "sm", wrap=rec.wrap)
    for a, b in zip(std, sm, strict=True):
        np.testing.assert_allclose(a["weights"], b["weights"], atol=1e-9)
    hello = [m for m in rec.sent_by(H) if m.key.endswith("hello")]
    assert len(hello) == 1
    guest_ids = tables[0].ids
    assert ids_digest(guest_ids, "sm") in hello[0].payload
    assert ids_digest(guest_ids, "standard") not in hello[0].payload


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_row_alignment_check_under_each_suite(suite):
    rec = Recorder()
    run_parties({G: lambda ctx: check_alignment_guest(ctx, IDS, suite),
                 H: lambda ctx: check_alignment_host(ctx, list(IDS), suite)},
                timeout=20, wrap=rec.wrap)
    sent = rec.sent_by(H)
    assert all(d in sent[0].payload for d in row_digests(IDS, suite))
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda ctx: check_alignment_guest(ctx, IDS, suite),
                     H: lambda ctx: check_alignment_host(ctx, IDS[::-1], suite)}, timeout=20)
    assert isinstance(err.value.error, InputError)


def test_parties_on_different_suites_fail_together():
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda ctx: check_alignment_guest(ctx, IDS, "sm"),
                     H: lambda ctx: check_alignment_host(ctx, IDS, "standard")}, timeout=20)
    assert isinstance(err.value.error, InputError)
