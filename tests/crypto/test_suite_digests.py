"""Digests that cross parties or go to the federation log follow the crypto suite (issue 25).

Under ``standard`` each record keeps the exact SHA-256 bytes and fields it had before suites
existed (recomputed here with :mod:`hashlib`); under ``sm`` the same fields hold SM3 digests
and the record names its hash (``"digest_alg": "sm3"``, the model library's convention).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from coalition.components.artifacts import Dataset
from coalition.components.hetero_lr_contribution import _ids_digest
from coalition.crypto.sm.sm3 import sm3
from coalition.crypto.suite import CryptoSuite, digest_alg, hexdigest
from coalition.node.jobs.contributions import _ids_hash
from coalition.node.jobs.update_log import update_digests
from coalition.node.psi_tasks.service import _result_hash
from coalition.protocols.horizontal.artifact import GlobalModel, RoundRecord
from coalition.protocols.horizontal.contribution import ContributionLog, model_digest
from coalition.protocols.horizontal.spec import ContributionConfig, HorizontalJobParams


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_suite_hexdigest_and_name():
    assert hexdigest(b"abc") == _sha(b"abc")
    assert hexdigest(b"abc", "sm") == sm3(b"abc").hex()
    # GB/T 32905 Appendix A.1
    assert hexdigest(b"abc", "sm") == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    assert (digest_alg("standard"), digest_alg("sm")) == ("sha256", "sm3")


def test_secureboost_tree_digests_follow_the_suite():
    guest = {"trees": [{"split": 1}, {"leaf": 0.5}]}
    host = {"splits": [[0, 3, 1.5], [1, 2, 0.25], [0, 4, 7.0]]}

    def canon(v: object) -> bytes:
        return json.dumps(v, sort_keys=True, separators=(",", ":"), default=str).encode()

    assert update_digests(guest) == [
        {"tree": 0, "tree_sha256": _sha(canon({"split": 1}))},
        {"tree": 1, "tree_sha256": _sha(canon({"leaf": 0.5}))}]
    assert update_digests(guest, "sm") == [
        {"tree": 0, "tree_sha256": sm3(canon({"split": 1})).hex(), "digest_alg": "sm3"},
        {"tree": 1, "tree_sha256": sm3(canon({"leaf": 0.5})).hex(), "digest_alg": "sm3"}]
    assert update_digests(host) == [
        {"tree": 0, "tree_sha256": _sha(canon([[0, 3, 1.5], [0, 4, 7.0]]))},
        {"tree": 1, "tree_sha256": _sha(canon([[1, 2, 0.25]]))}]
    assert [d["tree_sha256"] for d in update_digests(host, "sm")] == [
        sm3(canon([[0, 3, 1.5], [0, 4, 7.0]])).hex(), sm3(canon([[1, 2, 0.25]])).hex()]


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_horizontal_round_digests_record_their_hash(suite):
    """The aggregator hashes each round's model in the job's suite; the artifact and the
    ``model.update`` entries carry ``digest_alg`` under ``sm`` only."""
    vec = np.array([0.5, -1.25, 3.0])
    raw = np.ascontiguousarray(vec, dtype="<f8").tobytes()
    digest = model_digest(vec, suite)
    assert digest == (_sha(raw) if suite == "standard" else sm3(raw).hex())
    alg = None if suite == "standard" else "sm3"
    model = GlobalModel({"kind": "x"}, {"w": vec},
                        [RoundRecord(0, ["a"], ["a"], True, {}, None, digest, alg)])
    art = model.to_artifact()
    assert ("digest_alg" in art["history"][0]) == (suite == "sm")
    assert GlobalModel.from_artifact(art).history[0].digest_alg == alg
    [entry] = update_digests(art)
    assert entry["model_sha256"] == digest
    assert entry.get("digest_alg") == alg


def test_job_suite_reaches_the_aggregator():
    job = HorizontalJobParams(suite="sm", secure_aggregation=False)
    assert job.protocol_params().suite == "sm"
    assert HorizontalJobParams().protocol_params().suite == "standard"


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_contribution_inputs_follow_the_suite(suite):
    log = ContributionLog(ContributionConfig(group_size=1), {"a": ["a"], "b": ["b"]}, suite)
    before, da, db = np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0])
    log.add(before, {"a": (da, 1.0), "b": (db, 1.0)})
    inputs = log.scores(lambda v: float(-np.sum((v - 1.0) ** 2)))["inputs"]
    [r] = inputs["rounds"]
    assert r["updates_sha256"]["a"] == model_digest(da, suite)
    assert r["before_sha256"] == model_digest(before, suite)
    assert inputs.get("digest_alg") == (None if suite == "standard" else "sm3")


def test_vertical_contribution_id_hashes_follow_the_suite():
    """The label holder's ledger entry and the ``hetero_lr_contribution`` report."""
    frame = pd.DataFrame({"id": ["b", "a", "10"]})
    text = b"10\na\nb\n"
    assert _ids_hash(frame, "id", "standard") == _sha(text)
    assert _ids_hash(frame, "id", "sm") == sm3(text).hex()
    data = Dataset(frame.assign(x=[1.0, 2.0, 3.0]), "id")
    assert _ids_digest(data, CryptoSuite.STANDARD) == _sha(text)
    assert _ids_digest(data, CryptoSuite.SM) == sm3(text).hex()


def test_psi_run_result_hash_follows_the_suite():
    """The node's own PSI run record, logged as ``psi.run`` (``result_hash_alg`` stored)."""
    frame = pd.DataFrame({"id": ["b", "a"]})
    assert _result_hash(frame, "id", CryptoSuite.STANDARD) == _sha(b"a\nb\n")
    assert _result_hash(frame, "id", CryptoSuite.SM) == sm3(b"a\nb\n").hex()
