"""Split learning with two hosts: the host columns of FATE's tables split between two parties.

The guest's interactive layer sums both hosts' contributions ``α_h·W_h``, each ``W_h``
secret-shared between the guest and that host with that pair's own dealer triples, and each
host's part masked with the other's so that the guest decodes only the sum. Checked: quality
within 0.01 AUC of the same network trained centrally (default_credit, all rows); what each
party sends, under both crypto suites (no host's features, bottom outputs or gradients;
between the hosts only their mask keys, X25519 or SM2; each host's weight share and ``W_h·R`` stay with it); that one host's part
decodes to noise and only the sum to the interactive input; and that the serving scorers (the
node's online path) score what the batch protocol scores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from splitnn_roles import A, G, load

from coalition.components import ModelPart
from coalition.core import Party
from coalition.core.ids import Role
from coalition.node.serving.scoring import guest_scorer, host_scorer
from coalition.protocols.linear.fixedpoint import decode, encode
from coalition.protocols.splitnn import (
    CentralSplitNN,
    HeteroNNParams,
    SplitNNDealer,
    SplitNNGuest,
    SplitNNHost,
)
from coalition.protocols.splitnn.guest_link import HostLink
from coalition.protocols.splitnn.spec import FRAC_DELTA, FRAC_PREDICT, FRAC_VALUE, FRAC_WEIGHT
from coalition.testing import Recorder, find_leaks, run_parties

H1, H2 = Party.host("h1"), Party.host("h2")
HOSTS = (H1, H2)


class RecordingHost(SplitNNHost):
    """Keeps every gradient it receives (to look for them on the wire)."""

    seen: list[np.ndarray]

    def _observe(self, epoch, rows, grad):
        self.seen = [*getattr(self, "seen", []), grad]


def _two_hosts(fate_data, name: str, seed: int = 0) -> tuple[dict[Party, Any], ...]:
    """(train, test): per party its columns (the guest's with labels), host columns halved."""
    data = load(fate_data, name)
    xh = np.array_split(data.xh, 2, axis=1)
    idx = np.arange(data.y.size)
    tr, te = train_test_split(idx, test_size=0.3, random_state=seed, stratify=data.y)
    return tuple({G: (data.xg[i], data.y[i]), H1: xh[0][i], H2: xh[1][i]} for i in (tr, te))


def _fit(params: HeteroNNParams, train: dict[Party, Any], wrap: Any = None,
         host: type[SplitNNHost] = SplitNNHost) -> dict[Party, Any]:
    roles: dict[Party, Callable[..., Any]] = {
        G: lambda c: SplitNNGuest(params).fit(c, *train[G]),
        H1: lambda c: host(params).fit(c, train[H1]),
        H2: lambda c: host(params).fit(c, train[H2]),
        A: lambda c: SplitNNDealer(params).fit(c)}
    return run_parties(roles, wrap=wrap, timeout=300)


def _predict(models: dict[Party, Any], test: dict[Party, Any], wrap: Any = None) -> np.ndarray:
    roles: dict[Party, Callable[..., Any]] = {
        G: lambda c: models[G].predict(c, test[G][0]),
        H1: lambda c: models[H1].predict(c, test[H1]),
        H2: lambda c: models[H2].predict(c, test[H2])}
    out: np.ndarray = run_parties(roles, wrap=wrap, timeout=300)[G]
    return out


def test_default_credit_two_hosts_within_001_of_central(fate_data):
    """All 30,000 rows, 8 epochs; the host's 10 columns split 5 + 5."""
    train, test = _two_hosts(fate_data, "default_credit")
    params = HeteroNNParams(epochs=8)
    ours = roc_auc_score(test[G][1], _predict(_fit(params, train), test))
    central = CentralSplitNN(params).fit(train[G][0], [train[H1], train[H2]], train[G][1])
    base = roc_auc_score(test[G][1], central.predict(test[G][0], [test[H1], test[H2]]))
    print(f"default_credit two hosts auc={ours:.4f} central={base:.4f}")
    assert ours >= base - 0.01
    assert ours > 0.76


#: What the guest decoded from each host, per batch and suite: (host, contribution in the ring).
SEEN_BY_GUEST: dict[str, list[tuple[str, np.ndarray]]] = {}
#: Length of a mask key: X25519 (32 bytes) or a compressed SM2 point (33).
KEY_BYTES = {"standard": 32, "sm": 33}


@pytest.fixture(scope="module", params=["standard", "sm"])
def breast(fate_data, request):
    train, test = _two_hosts(fate_data, "breast")
    rec, prec = Recorder(), Recorder()
    real = HostLink.contribution
    seen = SEEN_BY_GUEST.setdefault(request.param, [])

    def recording(self, bctx, b):
        out = real(self, bctx, b)
        seen.append((self.host.name, out))
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(HostLink, "contribution", recording)
        models = _fit(HeteroNNParams(epochs=10, batch_size=64, suite=request.param), train,
                      wrap=rec.wrap, host=RecordingHost)
    scores = _predict(models, test, wrap=prec.wrap)
    return rec, prec, models, train, test, scores


def _trivial(v):
    return v in (0, 1, 0.0, 1.0)


def _small(v):
    return 0 <= v < 1 << 16


def test_two_hosts_learn_the_task(breast):
    *_, test, scores = breast
    assert roc_auc_score(test[G][1], scores) > 0.98


def test_nothing_of_a_host_on_the_wire_and_only_mask_keys_between_hosts(breast):
    rec, prec, models, train, test, _ = breast
    for r in (rec, prec):
        between = [m for m in r.messages if {m.sender.role, m.receiver.role} == {Role.HOST}]
        assert len(between) == 2  # one public key each way per run
        for m in between:
            assert m.key.endswith("/host_mask_key")
            assert len(m.value()) == KEY_BYTES[models[G].params.suite]
    for host in HOSTS:
        for r, d in ((rec, train), (prec, test)):
            sent = r.sent_by(host)
            assert find_leaks(sent, d[host].ravel().tolist(), ignore=_trivial) == []
            assert find_leaks(sent, [int(v) for v in encode(d[host], FRAC_VALUE).ravel()],
                              ignore=_small) == []
        model = models[host]
        alpha, _ = model.bottom_.forward(model.scaler_(test[host]))
        assert find_leaks(prec.sent_by(host), alpha.ravel().tolist(), ignore=_trivial) == []
        grads = np.concatenate([g.ravel() for g in model.seen])
        assert grads.size and np.any(grads != 0)
        assert find_leaks(rec.sent_by(G), grads.tolist(), ignore=_trivial) == []
        assert find_leaks(rec.sent_by(G), [int(v) for v in encode(
            grads, FRAC_DELTA + FRAC_WEIGHT)], ignore=_small) == []
        # each host's weight share and W_h·R_h stay with it; the guest's shares and R_h⁻¹ too
        assert find_leaks(rec.sent_by(host), [int(v) for v in model.u_.ravel()]) == []
        assert find_leaks(rec.sent_by(G), [int(v) for v in models[G].u_[host.name].ravel()]) \
            == []
        for r in (rec, prec):
            assert find_leaks(r.sent_by(host), model.m_.ravel().tolist(), ignore=_trivial) == []
            assert find_leaks(r.sent_by(G), models[G].r_inv_[host.name].ravel().tolist(),
                              ignore=_trivial) == []
    labels = [int(v) for v in encode(train[G][1], FRAC_DELTA)]
    assert find_leaks(rec.sent_by(G), labels, ignore=_small) == []


def test_the_guest_decodes_only_the_sum_of_the_hosts_contributions(breast):
    """Training: each host's share of ``α_h·W_h`` reaches the guest under pair masks shared
    with the other host; one host's part decodes to noise of the ring's range, the sum to the
    interactive input. Prediction: the same with fresh keys, under the one rotation ``R``."""
    _, prec, models, _, test, _ = breast
    frac = FRAC_VALUE + FRAC_WEIGHT
    seen = SEEN_BY_GUEST[models[G].params.suite]
    assert {h for h, _ in seen} == {"h1", "h2"}
    for (h1, c1), (h2, c2) in zip(seen[::2], seen[1::2], strict=True):
        assert (h1, h2) == ("h1", "h2")
        for alone in (c1, c2):
            assert np.median(np.abs(decode(alone, frac))) > 1e6
        assert np.max(np.abs(decode(np.asarray(c1 + c2, dtype=np.uint64), frac))) < 1e3
    sent = {m.sender: m.value() for m in prec.messages if m.receiver == G}
    assert set(sent) == set(HOSTS)
    plain = {h: models[h].partial(test[h]) for h in HOSTS}
    for h in HOSTS:
        assert sent[h].dtype == np.uint64
        assert not np.any(np.isclose(decode(sent[h], FRAC_PREDICT), plain[h], atol=1e-3))
    np.testing.assert_allclose(
        decode(np.asarray(sent[H1] + sent[H2], dtype=np.uint64), FRAC_PREDICT),
        plain[H1] + plain[H2], rtol=0, atol=1e-9)
    assert np.array_equal(models[G].r_inv_["h1"], models[G].r_inv_["h2"])


def test_serving_scorers_score_what_the_job_scores(breast):
    """The node's online path (host scorers' partials, the guest scorer's combination) with
    the parts as stored, against the batch protocol; organisations named apart from the
    training party names, as a published model maps them."""
    _, _, models, _, test, scores = breast
    parts = {p: ModelPart("hetero_nn", p.role, models[p].to_artifact()) for p in (G, *HOSTS)}
    orgs = {"h1": "telco", "h2": "carmaker"}
    guest = guest_scorer(parts[G])
    hosts = {orgs[h.name]: host_scorer(parts[h], models[G].params.suite) for h in HOSTS}
    guest.attach({org: s.info() for org, s in hosts.items()}, orgs)
    ids = [str(i) for i in range(len(scores))]
    pair_key = bytes(range(32))  # what the hosts' nodes agree (node/serving/maskkeys.py)
    partials = {org: hosts[org].partial(test[h], ids, org, {
        other: pair_key for other in hosts if other != org})
        for h, org in ((h, orgs[h.name]) for h in HOSTS)}
    assert all("masked_columns" in p and "rotated" not in p for p in partials.values())
    np.testing.assert_allclose(guest.combine(test[G][0], partials), scores, rtol=0, atol=1e-12)
    with pytest.raises(Exception, match="training hosts"):
        guest_scorer(parts[G]).attach({"telco": hosts["telco"].info()}, orgs)
