"""Issue 16, finding 19: in vertical LR prediction the guest received each host's partial
score ``w_h·x_h`` per row — with a single-feature host, the feature itself. Attacks played as
the guest on the real protocol roles (in-memory hub, every message recorded)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coalition.core import Context, Party
from coalition.core.errors import CryptoError
from coalition.protocols.linear import LinearModelPart, PartyTable, Standardizer
from coalition.protocols.linear.artifact import suite_meta
from coalition.protocols.linear.predict import (
    PARTIAL_SCORE,
    PartSuiteRefused,
    predict_guest,
    predict_host,
    sigmoid,
)
from coalition.testing import PartyFailure, Recorder, run_parties

GUEST = Party.guest()
HOSTS = (Party.host("telco"), Party.host("carmaker"))


def _part(role: str, x: np.ndarray, seed: int, intercept: float | None = None,
          suite: str = "standard") -> LinearModelPart:
    rng = np.random.default_rng(seed)  # model weights are not secret randomness
    return LinearModelPart(role, "logistic", "ss", [f"{role}{seed}_{j}" for j in
                                                    range(x.shape[1])],
                           rng.normal(size=x.shape[1]), Standardizer().fit(x), intercept,
                           suite_meta(suite))


@pytest.fixture(scope="module")
def breast(fate_data: Path) -> dict[str, PartyTable]:
    """The guest's 10 features; the host features split between two hosts (10 each)."""
    g = pd.read_csv(fate_data / "breast_hetero_guest.csv").head(150)
    h = pd.read_csv(fate_data / "breast_hetero_host.csv").set_index("id").loc[g["id"]]
    ids = [str(i) for i in g["id"]]
    cols = np.array_split(np.array(h.columns), 2)
    out = {"guest": PartyTable.from_arrays(ids, g.drop(columns=["id", "y"]).to_numpy(float),
                                           g["y"], [c for c in g.columns if c not in
                                                    ("id", "y")])}
    for party, names in zip(HOSTS, cols, strict=True):
        out[party.name] = PartyTable.from_arrays(ids, h[list(names)].to_numpy(float), None,
                                                 list(names))
    return out


def _host(part: LinearModelPart, table: PartyTable) -> Callable[[Context], None]:
    return lambda ctx: predict_host(ctx, part, table)


def _roles(parts: dict[str, LinearModelPart], t: dict[str, PartyTable]
           ) -> dict[Party, Callable[[Context], Any]]:
    roles: dict[Party, Callable[[Context], Any]] = {
        GUEST: lambda ctx: predict_guest(ctx, parts["guest"], t["guest"])}
    for h in HOSTS:
        roles[h] = _host(parts[h.name], t[h.name])
    return roles


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_two_hosts_guest_receives_no_individual_partial_score(
        breast: dict[str, PartyTable], suite: str) -> None:
    """Under both crypto suites (the parts record theirs): X25519/ChaCha20 or SM2/SM4-CTR."""
    parts = {"guest": _part("guest", breast["guest"].features, 1, intercept=0.3, suite=suite)}
    for i, h in enumerate(HOSTS):
        parts[h.name] = _part("host", breast[h.name].features, 2 + i, suite=suite)
    rec = Recorder()
    out = run_parties(_roles(parts, breast), wrap=rec.wrap)

    plain = {h.name: parts[h.name].partial_score(breast[h.name].features) for h in HOSTS}
    to_guest = rec.received_by(GUEST)
    received = {m.sender.name: m.value() for m in to_guest}
    assert set(received) == {h.name for h in HOSTS}
    for msg in received.values():
        assert "score" not in msg  # the old wire carried w_h·x_h here, in the clear

    from coalition.protocols.linear.masking import FRAC_BITS, decode_sum, encode_partial
    from coalition.protocols.linear.predict import MASK_KEY

    # Only partial scores reach the guest: the hosts' key agreement never passes through it.
    assert {m.key.rsplit("/", 1)[-1] for m in to_guest} == {PARTIAL_SCORE.name}
    keys = [m.value() for m in rec.messages if m.key.endswith(MASK_KEY.name)]
    assert keys and {len(k) for k in keys} == {33 if suite == "sm" else 32}
    for name, msg in received.items():
        masked = msg["masked"]
        assert masked.dtype == np.uint64
        # Neither as floats nor as fixed-point does a message match that host's partial score.
        assert not np.any(np.isclose(masked.view(np.int64) / 2.0**FRAC_BITS, plain[name],
                                     atol=1e-3))
        assert not np.any(masked == encode_partial(plain[name]))
        # A masked value looks uniform on 64 bits: about half the top bits are set.
        assert 0.3 < float(np.mean(masked >> np.uint64(63))) < 0.7
    # ... yet their sum is exactly the sum of the partial scores.
    total = decode_sum([received[h.name]["masked"] for h in HOSTS])
    np.testing.assert_allclose(total, plain["telco"] + plain["carmaker"], rtol=0, atol=1e-11)
    # Predictions equal the old (plaintext) batch prediction.
    old = sigmoid(parts["guest"].partial_score(breast["guest"].features) + 0.3
                  + plain["telco"] + plain["carmaker"])
    np.testing.assert_allclose(out[GUEST], old, rtol=0, atol=1e-9)


def test_hosts_of_different_suites_refuse_to_mask_together(
        breast: dict[str, PartyTable]) -> None:
    """A host whose part was trained under ``sm`` never agrees an X25519 key (nor the reverse):
    the run fails before any partial score reaches the guest."""
    parts = {"guest": _part("guest", breast["guest"].features, 1),
             "telco": _part("host", breast["telco"].features, 2, suite="sm"),
             "carmaker": _part("host", breast["carmaker"].features, 3)}
    rec = Recorder()
    with pytest.raises(PartyFailure) as info:
        run_parties(_roles(parts, breast), wrap=rec.wrap, timeout=10)
    assert isinstance(info.value.error, CryptoError)
    assert rec.received_by(GUEST) == []


@pytest.mark.parametrize(("node", "part"), [("sm", "standard"), ("standard", "sm")])
def test_a_host_refuses_to_mask_under_a_part_of_another_suite_than_its_node(
        breast: dict[str, PartyTable], node: str, part: str) -> None:
    """A node on ``sm`` does not predict with a part trained under ``standard`` (its masks
    would be X25519/ChaCha20), nor the reverse: refused before any message leaves the host."""
    parts = {"guest": _part("guest", breast["guest"].features, 1, suite=part),
             "telco": _part("host", breast["telco"].features, 2, suite=part),
             "carmaker": _part("host", breast["carmaker"].features, 3, suite=part)}
    roles = _roles(parts, breast)
    roles[HOSTS[0]] = lambda ctx: predict_host(ctx, parts["telco"], breast["telco"], suite=node)
    rec = Recorder()
    with pytest.raises(PartyFailure) as info:
        run_parties(roles, wrap=rec.wrap, timeout=10)
    assert isinstance(info.value.error, PartSuiteRefused)
    assert info.value.error.code == "policy.crypto_suite"
    assert [m for m in rec.messages if m.sender == HOSTS[0]] == []
    # The same part on a node of its own suite predicts.
    roles[HOSTS[0]] = lambda ctx: predict_host(ctx, parts["telco"], breast["telco"], suite=part)
    assert run_parties(roles, timeout=10)[GUEST].shape == (len(breast["guest"].ids),)


def test_masks_are_fresh_per_run(breast: dict[str, PartyTable]) -> None:
    """Two runs over the same rows: the guest cannot subtract one from the other."""
    parts = {"guest": _part("guest", breast["guest"].features, 1)}
    for i, h in enumerate(HOSTS):
        parts[h.name] = _part("host", breast[h.name].features, 2 + i)
    seen = []
    for _ in range(2):
        rec = Recorder()
        run_parties(_roles(parts, breast), wrap=rec.wrap)
        seen.append({m.sender.name: m.value().get("masked", m.value().get("score"))
                     for m in rec.received_by(GUEST)})
    with np.errstate(over="ignore"):
        diff = seen[0]["telco"] - seen[1]["telco"]
    assert not np.any(diff == 0)  # the old wire sent the same w_h·x_h twice


def test_single_feature_host_refuses_to_predict(breast: dict[str, PartyTable]) -> None:
    """With one host, the guest sees w_h·x_h; with one feature that is the feature (affinely):
    the host's policy refuses."""
    one = PartyTable.from_arrays(breast["telco"].ids, breast["telco"].features[:, :1], None,
                                 breast["telco"].feature_names[:1])
    host_part = _part("host", one.features, 5)
    guest_part = _part("guest", breast["guest"].features, 1)
    from coalition.protocols.linear.predict import TooFewFeatures

    rec = Recorder()
    with pytest.raises(PartyFailure) as info:
        run_parties({GUEST: lambda ctx: predict_guest(ctx, guest_part, breast["guest"]),
                     HOSTS[0]: lambda ctx: predict_host(ctx, host_part, one)},
                    wrap=rec.wrap, timeout=10)
    assert isinstance(info.value.error, TooFewFeatures) and info.value.party == HOSTS[0]
    assert rec.received_by(GUEST) == []  # nothing about the feature left the host
    # A node that opted out of the minimum (policy 1) still serves it, in the clear.
    out = run_parties({GUEST: lambda ctx: predict_guest(ctx, guest_part, breast["guest"]),
                       HOSTS[0]: lambda ctx: predict_host(ctx, host_part, one, min_features=1)})
    assert out[GUEST].shape == (len(one.ids),)
