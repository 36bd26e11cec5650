"""A party configured for the ``sm`` crypto suite refuses a partner speaking ``standard``:
whether the partner says so in its agreed parameters or claims ``sm`` there and then announces
the standard group in the ECDH hello (the hostile partner)."""

import pytest

from coalition.core import Party
from coalition.core.errors import ConfigError
from coalition.crypto import suite as suites
from coalition.protocols.psi import run_guest, run_host
from coalition.protocols.psi.ecdh import host as ecdh_host
from coalition.testing import PartyFailure, Recorder, run_parties

G, H = Party.guest(), Party.host("h1")
IDS = [f"id{i}" for i in range(40)]


def test_sm_guest_refuses_a_standard_partner():
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda ctx: run_guest(ctx, IDS, {"protocol": "ecdh", "suite": "sm"}),
                     H: lambda ctx: run_host(ctx, IDS, {"protocol": "ecdh"})}, timeout=20)
    assert isinstance(err.value.error, ConfigError)


def test_sm_guest_refuses_a_partner_that_claims_sm_but_speaks_standard(monkeypatch):
    monkeypatch.setattr(ecdh_host, "primitives",
                        lambda _name: suites.primitives(suites.CryptoSuite.STANDARD))
    rec = Recorder()
    params = {"protocol": "ecdh", "suite": "sm"}
    with pytest.raises(PartyFailure) as err:
        run_parties({G: lambda ctx: run_guest(ctx, IDS, params),
                     H: lambda ctx: run_host(ctx, IDS, params)},
                    wrap=rec.wrap, timeout=20)
    assert isinstance(err.value.error, ConfigError)
    # the guest stopped at the hello: none of its encrypted IDs went to the hostile host
    assert rec.sent_by(G)
    assert all("self_encrypted" not in m.key for m in rec.sent_by(G))
