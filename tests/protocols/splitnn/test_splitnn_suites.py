"""Split learning under both crypto suites (issue 25).

The triples' PRG (HKDF-SHA256 → ChaCha20, or HKDF-SM3 → SM4-CTR) and the hosts' pair masks
(X25519, or SM2 ECDH) follow ``HeteroNNParams.suite``. Checked: known answers of both suites'
streams (``standard`` pinned to the bytes before suites existed, ``sm`` also recomputed from
its definition); that with the same weight initialisation ``sm`` trains the same model as
``standard`` within the fixed-point truncation's tolerance, with one host and with two; and
that parties on different suites refuse each other before any triple is expanded.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from splitnn_roles import A, G, H, load

from coalition.core import Party
from coalition.core.errors import ProtocolError
from coalition.crypto.prg import Stream
from coalition.protocols.linear.masking import MaskKey
from coalition.protocols.linear.predict import PartSuiteRefused
from coalition.protocols.splitnn import (
    HeteroNNParams,
    SplitNNDealer,
    SplitNNGuest,
    SplitNNHost,
    hostmask,
    triples,
)
from coalition.protocols.splitnn import dealer as dealer_module
from coalition.protocols.splitnn import guest as guest_module
from coalition.protocols.splitnn import host as host_module
from coalition.protocols.splitnn.hostmask import HostMasks
from coalition.protocols.splitnn.triples import Product, Shares
from coalition.testing import run_parties

SEED = 0x0123456789ABCDEF0123456789ABCDEF
PAIR_CONTEXT = b"coalition/split-nn/train|h1|h2"
H2 = Party.host("h2")


def _hex(words: np.ndarray) -> list[str]:
    return [hex(int(v)) for v in words.ravel()]


def test_triple_streams_known_answers():
    """``standard``: the values the pre-suite ``triples.py`` gave; ``sm``: pinned, and
    recomputed as HMAC-SM3 Extract, HKDF-SM3 Expand and the SM4-CTR keystream under
    ``key[:16]`` from the counter block ``key[16:]``, read as little-endian words."""
    shape = (1, 3)
    std = Shares(SEED).ring(Product.FORWARD, 1, 3, 2, shape)
    assert _hex(std) == ["0xf6fabdaaa4fc7229", "0x93e509c42e95512c", "0x8d1ce725e5b45233"]
    assert np.array_equal(Shares(SEED, "standard").ring(Product.FORWARD, 1, 3, 2, shape), std)
    sm = Shares(SEED, "sm").ring(Product.FORWARD, 1, 3, 2, shape)
    assert _hex(sm) == ["0x71e2429dba4e70f", "0x1f6afc80b3aadf55", "0xa3e542958d9bc2c9"]
    extract = hmac.HMAC(triples.SALT, hashes.SM3())
    extract.update(SEED.to_bytes(16, "big"))
    info = triples.purpose_info(triples.LABEL, int(Product.FORWARD), 1, 3, 2)
    key = HKDFExpand(hashes.SM3(), 32, info).derive(extract.finalize())
    enc = Cipher(algorithms.SM4(key[:16]), modes.CTR(key[16:])).encryptor()
    assert sm.ravel().tolist() == np.frombuffer(enc.update(bytes(24)), dtype="<u8").tolist()


@pytest.mark.parametrize(("suite", "secrets", "expected"), [
    ("standard", (bytes(range(32)), bytes(range(32, 64))),
     ["0x8a5cb67c3934305f", "0xbc802b826aa51627", "0xcbc744079b4ffa17"]),
    ("sm", (bytes(range(48)), bytes(range(48, 96))),
     ["0x45b368b946643a2f", "0x15870bc948b55d36", "0xe92cbc7f1b06eaef"]),
])
def test_host_pair_masks_known_answers(suite, secrets, expected):
    """A pair key from fixed keys of the suite; the mask of use ``(0, 1)`` is added by the
    host that sorts first and subtracted by the other (``standard`` as before suites)."""
    a, b = (MaskKey(suite, s) for s in secrets)
    key = a.agree(b.public, PAIR_CONTEXT)
    assert key == b.agree(a.public, PAIR_CONTEXT)
    first = HostMasks("h1", {"h2": Stream(key, hostmask.SALT, suite)})
    second = HostMasks("h2", {"h1": Stream(key, hostmask.SALT, suite)})
    zero = np.zeros(3, dtype=np.uint64)
    assert _hex(first.apply(zero, 0, 1)) == expected
    assert not np.any(first.apply(zero, 0, 1) + second.apply(zero, 0, 1))


def _fixed_randomness(mp: pytest.MonkeyPatch) -> None:
    """The same weight initialisation and ``R`` in every run, the same dealer seeds: what
    is left to differ between the suites is the triples' and masks' streams."""
    mp.setattr(guest_module, "secret_rng", lambda: np.random.default_rng(11))
    mp.setattr(host_module, "secret_rng", lambda: np.random.default_rng(12))
    seeds = itertools.count(SEED)
    mp.setattr(dealer_module, "new_seed", lambda: next(seeds))


def _run(params: HeteroNNParams, guest: tuple[Any, Any], hosts: dict[Party, Any],
         test: tuple[Any, dict[Party, Any]]) -> np.ndarray:
    roles: dict[Party, Callable[..., Any]] = {
        G: lambda c: SplitNNGuest(params).fit(c, *guest),
        A: lambda c: SplitNNDealer(params).fit(c)}
    for h, x in hosts.items():
        roles[h] = lambda c, x=x: SplitNNHost(params).fit(c, x)
    with pytest.MonkeyPatch.context() as mp:
        _fixed_randomness(mp)
        models = run_parties(roles, timeout=120)
    proles: dict[Party, Callable[..., Any]] = {G: lambda c: models[G].predict(c, test[0])}
    for h in hosts:
        proles[h] = lambda c, h=h: models[h].predict(c, test[1][h])
    out: np.ndarray = run_parties(proles, timeout=120)[G]
    return out


@pytest.mark.parametrize("two_hosts", [False, True], ids=["one-host", "two-hosts"])
def test_sm_trains_the_model_standard_trains(fate_data, two_hosts):
    """Same data, same initialisation: the predictions under ``sm`` equal those under
    ``standard`` within what SecureML's local truncation (an error of one unit of the last
    place per product, depending on the shares) leaves after training."""
    data = load(fate_data, "breast")
    train, test = data.split()
    if two_hosts:
        split = np.array_split(np.arange(train.xh.shape[1]), 2)
        hosts = {H: train.xh[:, split[0]], H2: train.xh[:, split[1]]}
        test_hosts = {H: test.xh[:, split[0]], H2: test.xh[:, split[1]]}
    else:
        hosts, test_hosts = {H: train.xh}, {H: test.xh}
    out = {suite: _run(HeteroNNParams(epochs=3, batch_size=64, suite=suite),
                       (train.xg, train.y), hosts, (test.xg, test_hosts))
           for suite in ("standard", "sm")}
    assert np.all((out["sm"] > 0) & (out["sm"] < 1))
    # measured: at most 4e-5 apart (one host) and 2e-5 (two hosts)
    np.testing.assert_allclose(out["sm"], out["standard"], rtol=0, atol=1e-3)
    assert np.max(np.abs(out["standard"] - 0.5)) > 0.3  # a trained model, not a constant


def test_parties_on_different_suites_refuse_each_other(fate_data):
    """An ``sm`` guest's SETUP names its suite: a ``standard`` host and dealer refuse it."""
    data = load(fate_data, "breast")
    sm, std = (HeteroNNParams(epochs=1, batch_size=64, suite=s) for s in ("sm", "standard"))
    assert "suite" not in std.wire_subset() and sm.wire_subset()["suite"] == "sm"
    with pytest.raises(Exception, match="differ"):
        run_parties({G: lambda c: SplitNNGuest(sm).fit(c, data.xg, data.y),
                     H: lambda c: SplitNNHost(std).fit(c, data.xh),
                     A: lambda c: SplitNNDealer(std).fit(c)}, timeout=20)


def test_hosts_on_different_suites_refuse_each_others_mask_keys():
    roles = {H: lambda c: HostMasks.agree(c, "train", "sm"),
             H2: lambda c: HostMasks.agree(c, "train", "standard")}
    with pytest.raises(Exception) as err:
        run_parties(roles, timeout=20)
    assert isinstance(err.value.__cause__, ProtocolError) or "mask key" in str(err.value)


def test_a_host_refuses_to_score_with_a_part_of_another_suite(fate_data):
    """A host on an ``sm`` node does not mask under X25519 because its part was trained under
    ``standard`` (and the other way round): refused before anything is sent."""
    host = SplitNNHost(HeteroNNParams(suite="standard"))
    host.check_suite("standard")
    host.check_suite(None)
    with pytest.raises(PartSuiteRefused) as err:
        host.check_suite("sm")
    assert err.value.code == "policy.crypto_suite"
    sent: list[object] = []

    class Silent:
        def sub(self, _name):
            return self

        def send(self, *args):
            sent.append(args)

    with pytest.raises(PartSuiteRefused):
        host.predict(Silent(), np.zeros((1, 2)), suite="sm")  # type: ignore[arg-type]
    assert sent == []
