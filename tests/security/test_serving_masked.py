"""Issue 16, finding 19, online: the guest's node received each host's ``w_h·x_h`` per row
from ``ServingPartial``. Played as the guest over the real peer endpoints (gRPC, mutual TLS)
between three in-process nodes: bank (guest), telco and carmaker (10 host features each)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from servingattack import (
    GUEST,
    Peer,
    call_as,
    connect,
    drop_parts,
    grant_predict,
    peer,
    register_dataset,
)
from servingkit import (
    reference_scores,
    split_breast,
    tables,
    three_classes,
    train_lr,
    train_nn,
    train_ovr,
    write_part,
)

from coalition.components import ModelPart
from coalition.core.errors import AuthError
from coalition.core.ids import Role
from coalition.crypto.signing import SigningKey
from coalition.node.serving.maskkeys import MaskKeySuiteMismatch
from coalition.node.signing import signing_key
from coalition.protocols.linear import LinearModelPart, Standardizer
from coalition.protocols.linear.predict import sigmoid

HOSTS = ("carmaker", "telco")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, fate_data: Path) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("masked")
    for org in (GUEST, *HOSTS):
        (folder / org).mkdir()
    csvs = split_breast(fate_data, {o: folder / o for o in (GUEST, *HOSTS)}, rows=120)
    t = tables(csvs)
    parts = train_lr(t)
    ovr = train_ovr(t)
    nn = train_nn(t)  # split learning with both hosts (a data-less dealer)
    return {"folder": folder, "csvs": csvs, "tables": t, "parts": parts,
            "reference": reference_scores(parts, t),
            "files": {o: write_part(p, folder / o / "lr.msgpack") for o, p in parts.items()},
            "ovr": ovr, "ovr_reference": reference_scores(ovr, three_classes(t)),
            "ovr_files": {o: write_part(p, folder / o / "ovr.msgpack") for o, p in ovr.items()},
            "nn": nn, "nn_reference": reference_scores(nn, t),
            "nn_files": {o: write_part(p, folder / o / "nn.msgpack") for o, p in nn.items()}}


@pytest.fixture
def suite() -> str:
    """The federation's crypto suite (every node's ``crypto_suite``); tests parametrise it."""
    return "standard"


@pytest.fixture
def trio(tmp_path: Path, trained: dict[str, Any], suite: str) -> Iterator[dict[str, Peer]]:
    nodes = {o: peer(tmp_path / o, o, trained["folder"] / o, crypto_suite=suite)
             for o in (GUEST, *HOSTS)}
    for org in HOSTS:
        connect(nodes[GUEST], nodes[org])
    connect(nodes[HOSTS[0]], nodes[HOSTS[1]])  # hosts pin each other's certificates
    register_dataset(nodes[GUEST], "crm", trained["csvs"][GUEST], label="y")
    for org in HOSTS:
        register_dataset(nodes[org], "features", trained["csvs"][org])
        r = nodes[org].api("POST", "/online-sources", json={"name": "features-online",
                                                           "dataset": "features"})
        assert r.status_code == 201, r.text
        grant_predict(nodes[GUEST], nodes[org], "features")
    assert nodes[GUEST].api("POST", "/online-sources", json={
        "name": "crm-online", "dataset": "crm"}).status_code == 201
    yield nodes
    for p in nodes.values():
        p.endpoint.stop(0)
        p.env.close()


def _publish_and_deploy(trio: dict[str, Peer], trained: dict[str, Any]) -> Any:
    """The guest publishes the two-host model and deploys service ``scoring``; the reply."""
    bank = trio[GUEST]
    r = bank.api("POST", "/models", json={
        "name": "credit", "source": {"artifact": str(trained["files"][GUEST])},
        "hosts": drop_parts({o: trio[o] for o in HOSTS}, trained["files"])})
    assert r.status_code == 201, r.text
    return bank.api("POST", "/services", json={"name": "scoring", "model": "credit",
                                               "source": "crm-online",
                                               "hosts": dict.fromkeys(HOSTS, "features-online")})


def _record_replies(peer: Peer) -> list[tuple[str, str, dict[str, Any]]]:
    """Record every peer reply ``peer`` receives from now on: (organisation, method, reply)."""
    wire: list[tuple[str, str, dict[str, Any]]] = []
    peers = peer.env.rt.peers
    real = peers.call

    def recording(partner: Any, method: Any, request: Any, **kw: Any) -> Any:
        reply = real(partner, method, request, **kw)
        org = partner if isinstance(partner, str) else partner.name
        wire.append((org, method.name, reply.model_dump()))
        return reply

    peers.call = recording  # type: ignore[method-assign]
    return wire


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_guest_receives_only_masked_partials_that_sum_right(
        trio: dict[str, Peer], trained: dict[str, Any], suite: str) -> None:
    """Under both suites: X25519 keys signed with the TLS key, HKDF-SHA256, HMAC-SHA256; or SM2
    keys signed with the node's SM2 key (endorsed by its TLS key), HKDF-SM3, HMAC-SM3. The
    scores are the same."""
    bank = trio[GUEST]
    wire = _record_replies(bank)
    r = _publish_and_deploy(trio, trained)
    assert r.status_code == 201, r.text
    ids = sorted(trained["reference"])[:9]
    r = bank.api("POST", "/services/scoring/predict", json={"ids": ids})
    assert r.status_code == 200, r.text

    replies = {org: reply for org, method, reply in wire if method == "ServingPartial"}
    assert set(replies) == set(HOSTS)
    t, parts = trained["tables"], trained["parts"]
    rows = {o: pd.DataFrame(t[o].features, index=t[o].ids).loc[ids].to_numpy() for o in HOSTS}
    plain = {o: LinearModelPart.from_artifact(parts[o].data).partial_score(rows[o])
             for o in HOSTS}
    for reply in replies.values():
        assert "scores" not in reply  # the old reply: w_h·x_h per row, in the clear

    from coalition.node.serving.maskkeys import signed_public
    from coalition.protocols.linear.masking import FRAC_BITS, decode_sum, encode_partial

    masked = {}
    for org, reply in replies.items():
        masked[org] = np.array(reply["masked"], dtype=np.uint64)
        assert not np.any(masked[org] == encode_partial(plain[org]))
        assert not np.any(np.isclose(masked[org].view(np.int64) / 2.0**FRAC_BITS, plain[org],
                                     atol=1e-3))
    np.testing.assert_allclose(decode_sum(list(masked.values())), sum(plain.values()),
                               rtol=0, atol=1e-11)
    # Deploy replies carry public keys and signatures only.
    fields = ({"public", "signature"} if suite == "standard"
              else {"suite", "public", "signature", "signer", "endorsement"})
    prepared = [reply for _, method, reply in wire if method == "ServingPrepare"]
    assert prepared
    for reply in prepared:
        assert set(reply.get("mask_key", {})) == fields
    # Scores: the old plaintext batch prediction to 1e-9, the batch protocol to 1e-12.
    g = LinearModelPart.from_artifact(parts[GUEST].data)
    grows = pd.DataFrame(t[GUEST].features, index=t[GUEST].ids).loc[ids].to_numpy()
    old = sigmoid(g.partial_score(grows) + (g.intercept or 0.0) + sum(plain.values()))
    np.testing.assert_allclose(r.json()["scores"], old, rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.json()["scores"], [trained["reference"][i] for i in ids],
                               rtol=0, atol=1e-12)

    # The hosts restart (bindings rebuilt from the database): the pair keys come back from
    # the stored, re-verified public keys and the scores are unchanged.
    from coalition.node.serving.state import state_of

    for org in HOSTS:
        state_of(trio[org].env.rt).bindings.clear()
    again = bank.api("POST", "/services/scoring/predict", json={"ids": ids})
    assert again.status_code == 200, again.text
    np.testing.assert_allclose(again.json()["scores"], r.json()["scores"], rtol=0, atol=1e-12)

    # A hostile guest substitutes a key of its own for carmaker's: telco checks it against
    # the certificate it pinned for carmaker and refuses.
    binding = (GUEST, "scoring", "credit", 1)
    bank_signer = signing_key(bank.env.rt.settings) if suite == "sm" else None
    forged = signed_public(bank.env.rt.identity, HOSTS[0], binding, suite, bank_signer)
    with pytest.raises(AuthError, match="not signed by its pinned certificate"):
        call_as(bank, trio[HOSTS[1]], "ServingKeys",
                {"service": "scoring", "keys": {HOSTS[0]: forged}})
    if suite == "sm":  # carmaker's real SM2 key, re-endorsed by the guest: refused too
        own = signed_public(trio[HOSTS[0]].env.rt.identity, HOSTS[0], binding, suite,
                             signing_key(trio[HOSTS[0]].env.rt.settings))
        with pytest.raises(AuthError, match="not signed by its pinned certificate"):
            call_as(bank, trio[HOSTS[1]], "ServingKeys", {"service": "scoring", "keys": {
                HOSTS[0]: {**own, "endorsement": forged["endorsement"],
                           "signer": forged["signer"]}}})
    # A key of the other suite, genuinely carmaker's: telco refuses the suite, not the
    # signature (no downgrade of an sm federation to X25519/HMAC-SHA256, nor the reverse).
    other = "standard" if suite == "sm" else "sm"
    carmaker = trio[HOSTS[0]].env.rt
    genuine = signed_public(carmaker.identity, HOSTS[0], binding, other,
                            SigningKey.generate("sm") if other == "sm" else None)
    with pytest.raises(MaskKeySuiteMismatch) as refused:
        call_as(bank, trio[HOSTS[1]], "ServingKeys",
                {"service": "scoring", "keys": {HOSTS[0]: genuine}})
    assert refused.value.code == "serving.crypto_suite"
    # ... and the service still scores with the keys it holds.
    again = bank.api("POST", "/services/scoring/predict", json={"ids": ids})
    assert again.status_code == 200, again.text
    # ... and naming itself (or nobody) as a co-host does not get it the keys either.
    with pytest.raises(Exception, match="co-host"):
        call_as(bank, trio[HOSTS[1]], "ServingPrepare", {
            "service": "other", "model": "credit", "version": 1,
            "source": {"online": "features-online"}, "cohosts": [GUEST]})


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_multiclass_partials_are_masked_per_class(
        trio: dict[str, Peer], trained: dict[str, Any], suite: str) -> None:
    """One-vs-rest with two hosts: each class's partials are masked under a key of its own, so
    the guest can neither read a host's class scores nor the difference of two of them (one
    mask for every class would cancel in a difference); the class sums decode right."""
    from coalition.protocols.linear.masking import decode_sum, encode_partial
    from coalition.protocols.linear.multiclass import OvRModelPart

    bank = trio[GUEST]
    wire = _record_replies(bank)
    r = bank.api("POST", "/models", json={
        "name": "segments", "source": {"artifact": str(trained["ovr_files"][GUEST])},
        "hosts": drop_parts({o: trio[o] for o in HOSTS}, trained["ovr_files"])})
    assert r.status_code == 201, r.text
    r = bank.api("POST", "/services", json={"name": "segments", "model": "segments",
                                            "source": "crm-online",
                                            "hosts": dict.fromkeys(HOSTS, "features-online")})
    assert r.status_code == 201, r.text
    ids = sorted(trained["ovr_reference"])[:9]
    r = bank.api("POST", "/services/segments/predict", json={"ids": ids})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["scores"], [trained["ovr_reference"][i] for i in ids],
                               rtol=0, atol=1e-12)

    replies = {org: reply for org, method, reply in wire if method == "ServingPartial"}
    t = trained["tables"]
    rows = {o: pd.DataFrame(t[o].features, index=t[o].ids).loc[ids].to_numpy() for o in HOSTS}
    plain = {o: [p.partial_score(rows[o]) for p in
                 OvRModelPart.from_artifact(trained["ovr"][o].data).parts] for o in HOSTS}
    classes = len(plain[HOSTS[0]])
    for org, reply in replies.items():
        masked = [np.array(c["masked"], dtype=np.uint64) for c in reply["classes"]]
        assert len(masked) == classes == 3
        for k in range(classes):
            assert not np.any(masked[k] == encode_partial(plain[org][k]))
            for j in range(k):  # a difference of two classes shows no plain difference
                assert not np.any(masked[k] - masked[j] ==
                                  encode_partial(plain[org][k]) - encode_partial(plain[org][j]))
    for k in range(classes):
        np.testing.assert_allclose(
            decode_sum([np.array(replies[o]["classes"][k]["masked"], dtype=np.uint64)
                        for o in HOSTS]),
            sum(plain[o][k] for o in HOSTS), rtol=0, atol=1e-11)


def test_split_nn_with_two_hosts_serves_what_the_job_scores(
        trio: dict[str, Peer], trained: dict[str, Any]) -> None:
    """Split learning with two hosts, online: each host replies with its ``α_h·W_h·R`` per row
    only under masks shared with the other host, one key per column, so the guest can read
    neither host's part nor a difference of two columns; the columns' sums decode to the
    hosts' sum, and the guest scores what the batch protocol scored (issue 24)."""
    from coalition.protocols.linear.masking import decode_sum, encode_partial
    from coalition.protocols.splitnn import SplitNNHost

    bank = trio[GUEST]
    wire = _record_replies(bank)
    r = bank.api("POST", "/models", json={
        "name": "nn", "source": {"artifact": str(trained["nn_files"][GUEST])},
        "hosts": drop_parts({o: trio[o] for o in HOSTS}, trained["nn_files"])})
    assert r.status_code == 201, r.text
    r = bank.api("POST", "/services", json={"name": "nn", "model": "nn", "source": "crm-online",
                                            "hosts": dict.fromkeys(HOSTS, "features-online")})
    assert r.status_code == 201, r.text
    ids = sorted(trained["nn_reference"])[:9]
    r = bank.api("POST", "/services/nn/predict", json={"ids": ids})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["scores"], [trained["nn_reference"][i] for i in ids],
                               rtol=0, atol=1e-12)
    replies = {org: reply for org, method, reply in wire if method == "ServingPartial"}
    assert set(replies) == set(HOSTS)
    t = trained["tables"]
    plain, masked = {}, {}
    for org, reply in replies.items():
        assert "rotated" not in reply  # the one-host reply, in the clear
        host = SplitNNHost.from_artifact(trained["nn"][org].data)
        rows = pd.DataFrame(t[org].features, index=t[org].ids).loc[ids].to_numpy()
        plain[org] = host.partial(rows)
        masked[org] = [np.array(c, dtype=np.uint64) for c in reply["masked_columns"]]
        for c, column in enumerate(masked[org]):
            assert not np.any(column == encode_partial(plain[org][:, c]))
            for j in range(c):  # one key per column: no plain difference of two columns
                assert not np.any(column - masked[org][j] == encode_partial(
                    plain[org][:, c]) - encode_partial(plain[org][:, j]))
    for c in range(len(masked[HOSTS[0]])):
        np.testing.assert_allclose(decode_sum([masked[o][c] for o in HOSTS]),
                                   sum(plain[o][:, c] for o in HOSTS), rtol=0, atol=1e-11)


def test_single_feature_host_refuses_to_serve(tmp_path: Path, trained: dict[str, Any]) -> None:
    folder = trained["folder"]
    bank = peer(tmp_path / GUEST, GUEST, folder / GUEST)
    telco = peer(tmp_path / "telco", "telco", folder / "telco")
    try:
        connect(bank, telco)
        csv = pd.read_csv(trained["csvs"]["telco"])
        one = folder / "telco" / "one.csv"
        csv[["id", csv.columns[1]]].to_csv(one, index=False)
        register_dataset(telco, "one", one)
        assert telco.api("POST", "/online-sources", json={"name": "one-online",
                                                          "dataset": "one"}).status_code == 201
        grant_predict(bank, telco, "one")
        x = csv[[csv.columns[1]]].to_numpy(float)
        host = LinearModelPart("host", "logistic", "ss", [str(csv.columns[1])],
                               np.array([0.7]), Standardizer().fit(x))
        files = {GUEST: trained["files"][GUEST],
                 "telco": write_part(ModelPart("hetero_lr", Role.HOST, host.to_artifact()),
                                     folder / "telco" / "one.msgpack")}
        r = bank.api("POST", "/models", json={
            "name": "thin", "source": {"artifact": str(files[GUEST])},
            "hosts": drop_parts({"telco": telco}, files)})
        assert r.status_code == 201, r.text
        r = bank.api("POST", "/services", json={"name": "s", "model": "thin",
                                                "hosts": {"telco": "one-online"}})
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "policy.min_serving_features"
        assert bank.api("GET", "/services").json() == []
    finally:
        for p in (bank, telco):
            p.endpoint.stop(0)
            p.env.close()


def test_hosts_that_cannot_verify_each_other_refuse_to_serve(
        trio: dict[str, Peer], trained: dict[str, Any]) -> None:
    """Without a pinned certificate for its co-host, telco cannot tell a co-host's masking key
    from one the guest made up, so it refuses the deploy (rather than serve in the clear)."""
    bank, telco = trio[GUEST], trio[HOSTS[1]]
    assert telco.api("DELETE", f"/partners/{HOSTS[0]}").status_code == 200
    r = _publish_and_deploy(trio, trained)
    assert r.status_code == 403, r.text
    assert "co-host" in r.json()["detail"] and HOSTS[1] in r.json()["detail"]
    assert bank.api("GET", "/services").json() == []


def test_guest_cannot_present_a_multi_host_model_as_single_host(
        tmp_path: Path, trained: dict[str, Any]) -> None:
    """telco took part in the training job with carmaker as the other host; a guest that
    deploys the model naming no co-host (to get telco's partial scores in the clear) is
    refused, because telco knows the job's hosts from its own record."""
    from servingkit import record_job

    from coalition.node.jobs.tables import JobRow
    from coalition.node.library.sources import read_part_file

    folder = trained["folder"]
    bank = peer(tmp_path / GUEST, GUEST, folder / GUEST)
    telco = peer(tmp_path / "telco", "telco", folder / "telco")
    try:
        connect(bank, telco)
        register_dataset(telco, "features", trained["csvs"]["telco"])
        assert telco.api("POST", "/online-sources", json={
            "name": "features-online", "dataset": "features"}).status_code == 201
        grant_predict(bank, telco, "features")
        parts = {o: read_part_file(trained["files"][o]) for o in (GUEST, "telco")}
        record_job(bank.env.rt, "job-9", parts={"guest:bank": parts[GUEST]})
        record_job(telco.env.rt, "job-9", parts={"host:telco": parts["telco"]})
        with telco.env.rt.db.session() as db:  # telco's own record: two hosts trained
            job = db.get(JobRow, "job-9")
            assert job is not None
            job.sites = {**job.sites, "host:carmaker": "carmaker"}
        r = bank.api("POST", "/models", json={"name": "credit",
                                              "source": {"job_id": "job-9", "task": "lr"}})
        assert r.status_code == 201, r.text
        r = bank.api("POST", "/services", json={"name": "s", "model": "credit",
                                                "hosts": {"telco": "features-online"}})
        assert r.status_code == 403, r.text
        assert "co-hosts differ" in r.json()["detail"]
    finally:
        for p in (bank, telco):
            p.endpoint.stop(0)
            p.env.close()
