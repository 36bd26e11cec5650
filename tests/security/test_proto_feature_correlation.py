"""Hostile partners of cross-party Pearson (issue 19).

The host's columns are hidden by the dealer's mask ``V``; what the host sends depends on what
it receives. A guest that sends ``E`` of another shape (say one row, to read a single row's
standardised values out of ``EᵀV + W₁`` combinations) or a dealer that sends a malformed
triple is refused by the host before it sends ``F`` or its share.
"""

from __future__ import annotations

import numpy as np
import pytest

from coalition.core import Party, ProtocolError
from coalition.protocols.feature.correlation import (
    CORR_E,
    CORR_SHAPE,
    CORR_TRIPLE,
    dealer_triples,
    host_correlations,
)
from coalition.testing import PartyFailure, Recorder, run_parties

G, H, A = Party.guest("bank"), Party.host("telco"), Party.arbiter("c")
X = np.random.default_rng(3).normal(size=(40, 2))


def _host(ctx):  # type: ignore[no-untyped-def]
    host_correlations(ctx, X, ["a", "b"])


def test_a_host_refuses_masked_columns_of_the_wrong_shape() -> None:
    def guest(ctx):  # type: ignore[no-untyped-def]
        ctx.send(ctx.arbiter, CORR_SHAPE, {"rows": 40, "cols": 1})
        sub = ctx.sub(str(H))
        sub.recv(H, CORR_SHAPE)
        sub.recv(ctx.arbiter, CORR_TRIPLE)
        sub.send(H, CORR_E, np.zeros((1, 1), dtype=np.uint64))  # one row, not 40

    rec = Recorder()
    with pytest.raises(PartyFailure) as info:
        run_parties({G: guest, H: _host, A: dealer_triples}, wrap=rec.wrap, timeout=5)
    assert info.value.party == H and isinstance(info.value.error, ProtocolError)
    assert [m for m in rec.sent_by(H) if m.receiver == G and "fe_corr_f" in m.key] == []


def test_a_host_refuses_a_malformed_triple() -> None:
    def dealer(ctx):  # type: ignore[no-untyped-def]
        ctx.recv(ctx.guest, CORR_SHAPE)
        sub = ctx.sub(str(H))
        sub.recv(H, CORR_SHAPE)
        sub.send(H, CORR_TRIPLE, {"mask": np.zeros((40, 2)), "share": None})  # floats, no share

    def guest(ctx):  # type: ignore[no-untyped-def]
        ctx.send(ctx.arbiter, CORR_SHAPE, {"rows": 40, "cols": 1})

    rec = Recorder()
    with pytest.raises(PartyFailure) as info:
        run_parties({G: guest, H: _host, A: dealer}, wrap=rec.wrap, timeout=5)
    assert info.value.party == H and isinstance(info.value.error, ProtocolError)
    assert [m.key for m in rec.sent_by(H) if m.receiver == G] == [
        m.key for m in rec.sent_by(H) if m.receiver == G and "fe_corr_shape" in m.key]
