"""Issue 16, finding 7: serving was an ID oracle — one ID unknown at the host failed the whole
batch (a membership test), and nothing bounded how much a partner or an API key could ask.

Attacks through the real peer endpoint (gRPC, mutual TLS) between in-process nodes: bank is
the guest, telco the host; telco holds only part of the guest's population, so some IDs the
guest asks about are not members at the host."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
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
from servingkit import split_breast, tables, train_lr, write_part

from coalition.core.errors import CoalitionError
from coalition.protocols.linear import LinearModelPart

HOST = "telco"
HOST_ROWS = 80  # of 120: the other 40 IDs are members at the guest only


@dataclass
class Trained:
    folder: Path
    guest_csv: Path
    host_csv: Path  # the host's registered data: HOST_ROWS rows only
    files: dict[str, Path]
    host_part: LinearModelPart
    members: list[str]  # IDs the host has
    outsiders: list[str]  # IDs the guest has and the host does not


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, fate_data: Path) -> Trained:
    folder = tmp_path_factory.mktemp("oracle")
    for org in (GUEST, HOST):
        (folder / org).mkdir()
    csvs = split_breast(fate_data, {GUEST: folder / GUEST, HOST: folder / HOST}, rows=120)
    parts = train_lr(tables(csvs))
    files = {org: write_part(p, folder / org / "lr.msgpack") for org, p in parts.items()}
    full = pd.read_csv(csvs[HOST], dtype={"id": str})
    host_csv = folder / HOST / "members.csv"
    full.head(HOST_ROWS).to_csv(host_csv, index=False)
    return Trained(folder, csvs[GUEST], host_csv, files,
                   LinearModelPart.from_artifact(parts[HOST].data),
                   full["id"].head(HOST_ROWS).tolist(), full["id"].iloc[HOST_ROWS:].tolist())


def _pair(tmp: Path, trained: Trained, suite: str = "standard",
          **host_settings: Any) -> tuple[Peer, Peer]:
    bank = peer(tmp / GUEST, GUEST, trained.folder / GUEST, crypto_suite=suite)
    telco = peer(tmp / HOST, HOST, trained.folder / HOST, crypto_suite=suite, **host_settings)
    connect(bank, telco)
    register_dataset(bank, "crm", trained.guest_csv, label="y")
    register_dataset(telco, "usage", trained.host_csv)
    for node, ds in ((bank, "crm"), (telco, "usage")):
        r = node.api("POST", "/online-sources", json={"name": f"{ds}-online", "dataset": ds})
        assert r.status_code == 201, r.text
    grant_predict(bank, telco, "usage")
    r = bank.api("POST", "/models", json={
        "name": "credit", "source": {"artifact": str(trained.files[GUEST])},
        "hosts": drop_parts({HOST: telco}, trained.files), "params": {"family": "lr"}})
    assert r.status_code == 201, r.text
    return bank, telco


def _close(*nodes: Peer) -> None:
    for p in nodes:
        p.endpoint.stop(0)
        p.env.close()


@pytest.fixture
def suite() -> str:
    """The federation's crypto suite (both nodes' ``crypto_suite``); tests parametrise it."""
    return "standard"


@pytest.fixture
def pair(tmp_path: Path, trained: Trained, suite: str) -> Iterator[tuple[Peer, Peer]]:
    nodes = _pair(tmp_path, trained, suite)
    yield nodes
    _close(*nodes)


def _deploy(bank: Peer, **extra: Any) -> None:
    r = bank.api("POST", "/services", json={"name": "scoring", "model": "credit",
                                            "hosts": {HOST: "usage-online"},
                                            "source": "crm-online", **extra})
    assert r.status_code == 201, r.text


def _events(node: Peer, kind: str) -> list[dict[str, Any]]:
    r = node.api("GET", f"/audit/events?limit=1000&kind={kind}")
    assert r.status_code == 200, r.text
    return list(r.json())


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_hostile_guest_cannot_tell_members_from_the_host_answers(
        pair: tuple[Peer, Peer], trained: Trained, suite: str) -> None:
    """Under both suites: the host's decoy PRF is SHAKE-256, or HMAC-SM3 + SM4-CTR on ``sm``."""
    bank, telco = pair
    _deploy(bank)
    members, outsiders = trained.members[:6], trained.outsiders[:6]
    probe = [x for pair_ in zip(members, outsiders, strict=True) for x in pair_]
    probe.append("never-a-customer-anywhere")
    # The guest's node asks the host's peer endpoint directly, as a hostile guest would.
    # On the old code this batch failed with "IDs not found" (the membership answer).
    reply = call_as(bank, telco, "ServingPartial", {"service": "scoring", "ids": probe})
    scores = np.asarray(reply["scores"], dtype=np.float64)
    assert scores.shape == (len(probe),) and set(reply) == {"scores"}

    host_rows = pd.read_csv(trained.host_csv, dtype={"id": str}).set_index("id")
    x = host_rows[trained.host_part.feature_names].to_numpy(float)
    by_row = trained.host_part.partial_score(x)
    member_values = dict(zip(host_rows.index, by_row, strict=True))
    # Per-feature contributions w_j·z_j: a row built from the columns' own values scores
    # between the sums of their minima and maxima.
    contrib = trained.host_part.scaler.transform(x) * trained.host_part.weights
    low, high = contrib.min(axis=0).sum(), contrib.max(axis=0).sum()
    decoys = []
    for i, value in zip(probe, scores, strict=True):
        if i in member_values:  # members: their own partial score
            assert value == pytest.approx(member_values[i], abs=1e-12)
        else:  # non-members: a plausible value, not a marker and not a copy of a member's
            assert low - 1e-9 <= value <= high + 1e-9
            assert np.min(np.abs(by_row - value)) > 1e-9
            decoys.append(value)
    assert len(set(decoys)) == len(decoys)
    # Asking again gives the same answers (a fresh random decoy would mark non-members), and
    # a member's answer does not depend on its neighbours.
    again = call_as(bank, telco, "ServingPartial", {"service": "scoring", "ids": probe[::-1]})
    np.testing.assert_allclose(np.asarray(again["scores"])[::-1], scores, rtol=0, atol=1e-12)
    alone = call_as(bank, telco, "ServingPartial", {"service": "scoring", "ids": members})
    np.testing.assert_allclose(alone["scores"], scores[0:12:2], rtol=0, atol=1e-12)

    # The guest's REST caller: "found" comes from the guest's own data only; IDs the host
    # lacks are scored (with the host's decoy) and never fail the request.
    r = bank.api("POST", "/services/scoring/predict",
                 json={"ids": [*members[:3], *outsiders[:3], "never-a-customer-anywhere"]})
    assert r.status_code == 200, r.text
    assert r.json()["found"] == [True] * 6 + [False]
    assert all(isinstance(s, float) for s in r.json()["scores"][:6])
    assert r.json()["scores"][6] is None


def test_partner_over_rate_or_quota_is_refused_typed_and_audited_as_aggregates(
        tmp_path: Path, trained: Trained) -> None:
    bank, telco = _pair(tmp_path, trained, serving_partner_burst_ids=8,
                        serving_partner_ids_per_s=0.001, serving_partner_ids_per_day=1000)
    try:
        _deploy(bank)
        ids = trained.members[:5]
        call = {"service": "scoring", "ids": ids}
        assert len(call_as(bank, telco, "ServingPartial", call)["scores"]) == 5
        with pytest.raises(CoalitionError) as rate:  # 3 tokens left, 5 asked
            call_as(bank, telco, "ServingPartial", call)
        assert rate.value.code == "serving.rate_limited"
        assert rate.value.details["retry_after_s"] >= 1
        # The guest's own caller sees the host's refusal as a 429 with Retry-After.
        r = bank.api("POST", "/services/scoring/predict", json={"ids": ids})
        assert r.status_code == 429, r.text
        assert r.json()["code"] == "serving.rate_limited" and int(r.headers["Retry-After"]) >= 1

        # The host owner gives this partner its own limits: a daily quota of 12 IDs.
        telco.env.rt.settings.serving_partner_limits = {
            GUEST: {"ids_per_day": 12, "ids_per_s": 1e6, "burst_ids": 100}}
        assert len(call_as(bank, telco, "ServingPartial", call)["scores"]) == 5  # 10 today
        with pytest.raises(CoalitionError) as quota:
            call_as(bank, telco, "ServingPartial", call)
        assert quota.value.code == "serving.quota_exceeded"

        from coalition.node.serving.host import ledger
        from coalition.node.serving.limits import ServingQuotaExceeded

        # Audit: one alert for the window's first refusal, no row per request, no IDs.
        refused = _events(telco, "service.query_refused")
        assert len(refused) == 1 and refused[0]["actor"] == f"partner:{GUEST}"
        assert refused[0]["details"]["code"] == "serving.rate_limited"
        assert _events(telco, "service.query_volume") == []
        # The window ends: the next call writes the window's aggregate.
        book = ledger(telco.env.rt)
        later = time.time() + 2 * telco.env.rt.settings.serving_audit_window_s
        book.clock = lambda: later
        # The day may not have turned (still refused): either way the window is written first.
        with contextlib.suppress(ServingQuotaExceeded):
            call_as(bank, telco, "ServingPartial", call)
        volume = _events(telco, "service.query_volume")
        assert len(volume) == 1
        counts = volume[0]["details"]
        assert (counts["requests"], counts["ids"], counts["refused_requests"],
                counts["refused_ids"]) == (2, 10, 3, 15)
        assert counts["subject"] == GUEST and counts["service"] == "scoring"
        trail = json.dumps([e["details"] for e in _events(telco, "service.query_volume")
                            + _events(telco, "service.query_refused")])
        assert not any(f'"{i}"' in trail for i in ids)
    finally:
        _close(bank, telco)


def test_api_key_over_its_rate_gets_429(pair: tuple[Peer, Peer], trained: Trained) -> None:
    bank, _ = pair
    _deploy(bank, limits={"ids_per_day": 1000, "ids_per_s": 0.001, "burst_ids": 3})
    assert bank.api("GET", "/services/scoring").json()["limits"]["burst_ids"] == 3
    assert bank.api("POST", "/users", json={"username": "crm", "role": "data_scientist",
                                            "kind": "api"}).status_code == 201
    keys = []
    for _ in range(2):
        r = bank.api("POST", "/api-keys", json={"username": "crm",
                                                "scopes": ["services.predict"]})
        assert r.status_code == 201, r.text
        keys.append({"Authorization": f"Bearer {r.json()['key']}"})
    url = "/api/v1/services/scoring/predict"
    ok = bank.env.client.post(url, json={"ids": trained.members[:3]}, headers=keys[0])
    assert ok.status_code == 200, ok.text
    r = bank.env.client.post(url, json={"ids": trained.members[:1]}, headers=keys[0])
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "serving.rate_limited" and int(r.headers["Retry-After"]) >= 1
    # Another key has its own bucket.
    assert bank.env.client.post(url, json={"ids": trained.members[:1]},
                                headers=keys[1]).status_code == 200
    # A batch beyond the burst can never pass: refused as invalid, not retried forever.
    r = bank.env.client.post(url, json={"ids": trained.members[:4]}, headers=keys[1])
    assert r.status_code == 422, r.text
    refused = _events(bank, "service.query_refused")
    assert len(refused) == 1 and refused[0]["actor"].startswith("key:")
    assert refused[0]["details"]["side"] == "guest"


def test_decoy_rows_under_sm_follow_their_definition() -> None:
    """The ``sm`` decoy PRF: column ``j`` of an unknown ID's row is source row ``w_j mod n``
    with ``w`` the SM4-CTR keystream of ``HMAC-SM3(key, len(id) || id)``; deterministic, and
    not the standard suite's SHAKE-256 rows."""
    from cryptography.hazmat.primitives import hashes, hmac
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from coalition.node.serving.features import DecoyRows

    matrix = np.arange(60, dtype=np.float64).reshape(20, 3)  # column j holds 3i + j
    key, ids = bytes(range(32)), ["alice", "x" * 40, ""]
    sm = DecoyRows(key, matrix, "sm").rows(ids)
    np.testing.assert_array_equal(DecoyRows(key, matrix, "sm").rows(ids), sm)
    for row, i in zip(sm, ids, strict=True):
        mac = hmac.HMAC(key, hashes.SM3())
        mac.update(len(i.encode()).to_bytes(4, "big") + i.encode())
        seed = mac.finalize()
        enc = Cipher(algorithms.SM4(seed[:16]), modes.CTR(seed[16:])).encryptor()
        words = np.frombuffer(enc.update(bytes(24)), dtype="<u8")
        np.testing.assert_array_equal(row, [3 * int(w % 20) + j for j, w in enumerate(words)])
    assert not np.array_equal(DecoyRows(key, matrix).rows(ids), sm)
