"""Finding 5, HE-LR batch size: with ``batch_size: 1`` the host reads every label from its own
gradient, so the real Paillier roles now refuse batches below the floor.

The host of ``he-arbiter`` learns ``g = X_B^T d`` for each batch ``B`` (that is the protocol:
it updates its own weights). With one row per batch, ``g = x_i · d_i``: the host divides by
its own ``x_i`` and reads the residual ``d_i = k·u_i + 1/2 - y_i``, whose sign is the label.
The attack below is a curious host running the unmodified role and only looking at what the
role computes; on 3deb866 it recovers every label. The roles now refuse (``ConfigError``)
before any gradient exists, and the node policy refuses the job before any worker starts
(``test_policy_rules.py``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from coalition.core import Context, Party
from coalition.core.errors import ConfigError
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.protocols.linear import HEArbiter, HEGuest, HEHost, PartyTable
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.he import common as he_common
from coalition.protocols.linear.layout import Layout
from coalition.protocols.linear.spec import LinearParams
from coalition.testing import PartyFailure, run_parties

G, H, A = Party.guest(), Party.host("h"), Party.arbiter()
ROWS = 60
PARAMS = {"protocol": "he-arbiter", "key_bits": 1024, "allow_insecure_key": True,
          "epochs": 1, "batch_size": 1, "learning_rate": 0.05, "report_loss": False}


def _tables() -> tuple[PartyTable, PartyTable]:
    rng = np.random.default_rng(16)
    ids = [f"{i:03d}" for i in range(ROWS)]
    xg, xh = rng.normal(size=(ROWS, 2)), rng.normal(size=(ROWS, 3))
    y = (xg[:, 0] + xh[:, 0] + 0.3 * rng.normal(size=ROWS) > 0).astype(float)
    return (PartyTable(ids, xg, ["g0", "g1"], y), PartyTable(ids, xh, ["h0", "h1", "h2"]))


def _run(params: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Train; return the gradients the host's role computed (what a curious host keeps)."""
    seen: list[np.ndarray] = []
    plain = he_common.LocalModel.masked_gradient

    def keep(self: Any, ctx: Context, key_holder: Party, enc: Any) -> np.ndarray:
        grad = plain(self, ctx, key_holder, enc)
        if ctx.party == H:
            seen.append(grad.copy())
        return grad

    monkeypatch.setattr(he_common.LocalModel, "masked_gradient", keep)
    guest, host = _tables()
    roles = {G: lambda ctx: HEGuest(params).fit(ctx, guest),
             H: lambda ctx: HEHost(params).fit(ctx, host),
             A: lambda ctx: HEArbiter(params).fit(ctx)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyWarning)
        run_parties(roles, timeout=60.0)
    return seen


def _recover(gradients: list[np.ndarray], params: dict[str, Any]) -> np.ndarray:
    """The host's guess of every label from its per-row gradients and its own features."""
    _, host = _tables()
    x = (host.features - host.features.mean(0)) / host.features.std(0)  # the role's scaling
    order = np.concatenate(batches(ROWS, LinearParams.parse(params), 0))
    guess = np.empty(ROWS)
    for row, g in zip(order, gradients, strict=True):
        d = float(g @ x[row]) / float(x[row] @ x[row])  # g = x_row * d_row
        guess[row] = 1.0 if d < 0 else 0.0
    return guess


def test_host_cannot_read_labels_from_batch_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PartyFailure) as failed:
        seen = _run(PARAMS, monkeypatch)
        # reached only without the floor: this is the attack succeeding
        guest, _ = _tables()
        recovered = float(np.mean(_recover(seen, PARAMS) == guest.labels))
        pytest.fail(f"the host recovered {recovered:.0%} of the labels")
    assert isinstance(failed.value.error, ConfigError)
    assert "batch too small" in str(failed.value.error)


def test_the_attack_is_real_without_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bypass the roles' check to show what it prevents: every label, with certainty."""
    for module in ("guest", "host", "arbiter"):
        monkeypatch.setattr(f"coalition.protocols.linear.he.{module}.check_batch_floor",
                            lambda *a, **k: None)
    seen = _run(PARAMS, monkeypatch)
    guest, _ = _tables()
    assert len(seen) == ROWS
    assert np.mean(_recover(seen, PARAMS) == guest.labels) == 1.0


def test_a_batch_at_the_floor_trains(monkeypatch: pytest.MonkeyPatch) -> None:
    params = {**PARAMS, "batch_size": 30}  # 10 x the host's 3 columns; two batches of 30
    seen = _run(params, monkeypatch)
    assert len(seen) == 2 and all(g.shape == (3,) for g in seen)


@pytest.mark.parametrize("protocol", ["he-arbiter", "he-guest"])
def test_every_role_refuses_on_its_own(protocol: str) -> None:
    """Each role checks the layout it sees: an honest party refuses even if the others would
    not (he-guest: the guest's columns count too, it sees the hosts' scores per batch)."""
    layout = Layout(ROWS, {str(G): 3, str(H): 3})
    small = LinearParams.parse({**PARAMS, "protocol": protocol, "batch_size": 29})
    with pytest.raises(ConfigError, match="batch too small"):
        he_common.check_batch_floor(small, layout, G, [H])
    tail = LinearParams.parse({**PARAMS, "protocol": protocol, "batch_size": 57})  # 57 + 3
    with pytest.raises(ConfigError, match="batch too small"):
        he_common.check_batch_floor(tail, layout, G, [H])
    he_common.check_batch_floor(LinearParams.parse({**PARAMS, "protocol": protocol,
                                                    "batch_size": 30}), layout, G, [H])
