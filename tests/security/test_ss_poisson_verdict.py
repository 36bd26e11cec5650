"""SS Poisson: party 1 (the first host) stops training on the guest's verdict, because only the
guest can judge the deviance (it needs the counts). The trust decision on the host's side: it
accepts only the guard's own reasons, so a hostile guest cannot make the host's error, logs or
problem responses carry text of its choosing (a path, a data value), nor claim "keep training"
with a divergence reason. Played here by a guest whose judge returns such a verdict."""

import contextlib

import numpy as np
import pytest

from coalition.core import Party
from coalition.core.errors import ProtocolError
from coalition.protocols.linear import PartyTable, SSDealer, SSGuest, SSHost
from coalition.protocols.linear.guard import TrainingDivergedError
from coalition.protocols.linear.ss import engine
from coalition.protocols.linear.ss.poisson import VERDICT_REASONS
from coalition.testing import PartyFailure, run_parties

G, H, A = Party.guest(), Party.host("h0"), Party.arbiter()
PARAMS = {"protocol": "ss", "task": "poisson", "optimizer": "momentum", "epochs": 3,
          "batch_size": 100, "learning_rate": 0.05, "penalty": "none"}
HOSTILE = "diverged; see /srv/claims/policyholders.csv row 17: 3 claims"


def claims(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    years = rng.uniform(0.1, 1.0, n)
    y = rng.poisson(years * np.exp(-1.2 + x @ np.array([0.3, -0.2, 0.4, 0.25]))).astype(float)
    ids = [f"p{i}" for i in range(n)]
    return (PartyTable.from_arrays(ids, x[:, :2], y, ["age", "value"], years),
            PartyTable.from_arrays(ids, x[:, 2:], None, ["night", "phone"]))


def run_with_guest_verdict(verdict, monkeypatch):
    """Train with a guest that sends ``verdict`` at the end of the first epoch."""
    guest, host = claims(n=300, seed=4)
    original = engine.SSTrainer._poisson_verdict

    def hostile(self, ctx, epoch, *, stats, prev_loss):
        if self.reference is None:  # the honest host
            return original(self, ctx, epoch, stats=stats, prev_loss=prev_loss)
        ctx.recv(self.peer, engine.OPEN_STATS)
        ctx.send(self.peer, engine.VERDICT, verdict)
        return False

    monkeypatch.setattr(engine.SSTrainer, "_poisson_verdict", hostile)

    def hostile_guest(c):
        with contextlib.suppress(TrainingDivergedError):  # the guest's own outcome is moot
            SSGuest(PARAMS).fit(c, guest)

    return run_parties({G: hostile_guest, H: lambda c: SSHost(PARAMS).fit(c, host),
                        A: lambda c: SSDealer(PARAMS).fit(c)}, timeout=60)


@pytest.mark.parametrize("verdict", [[False, HOSTILE], [True, sorted(VERDICT_REASONS)[0]],
                                     [False, ["not", "text"]], [1, None]])
def test_host_refuses_a_verdict_the_guard_cannot_give(verdict, monkeypatch):
    with pytest.raises(PartyFailure) as info:
        run_with_guest_verdict(verdict, monkeypatch)
    assert info.value.party == H
    assert isinstance(info.value.error, ProtocolError)
    assert "/srv" not in str(info.value.error) and "claims" not in str(info.value.error)


def test_host_stops_typed_on_a_reason_the_guard_gives(monkeypatch):
    reason = sorted(VERDICT_REASONS)[0]
    with pytest.raises(PartyFailure) as info:
        run_with_guest_verdict([False, reason], monkeypatch)
    assert info.value.party == H
    assert isinstance(info.value.error, TrainingDivergedError)
    assert info.value.error.code == "model.diverged"
