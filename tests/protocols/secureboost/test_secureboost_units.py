"""Plaintext and single-party pieces of SecureBoost: binning, packing, histograms, splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coalition.core import ConfigError, EncodingOverflowError, InputError, ProtocolError
from coalition.crypto import he
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.protocols.secureboost import SecureBoostParams
from coalition.protocols.secureboost import histogram as hist
from coalition.protocols.secureboost.binning import BinMapper
from coalition.protocols.secureboost.objectives import gradients
from coalition.protocols.secureboost.packing import GHPacker
from coalition.protocols.secureboost.spec import Objective
from coalition.protocols.secureboost.splitting import own_candidates
from coalition.protocols.secureboost.tree import candidate_table

pytestmark = pytest.mark.filterwarnings(f"ignore::{InsecureKeyWarning.__module__}.InsecureKeyWarning")


@pytest.fixture(scope="module", params=he.HE_SCHEMES)
def keys(request):
    return he.generate_keypair(request.param, 1024, allow_insecure=True)


def test_binning_quantiles_and_missing_bin():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3))
    X[::10, 1] = np.nan
    X[:, 2] = rng.integers(0, 5, 1000)  # few distinct values: midpoints
    m = BinMapper.fit(X, 16)
    B = m.transform(X)
    assert m.n_bins(0) == 16 and m.n_bins(2) == 5
    assert (B[::10, 1] == m.missing_bin).all() and (B[1::10, 1] < 16).all()
    np.testing.assert_allclose(m.edges[2], [0.5, 1.5, 2.5, 3.5])
    # bin b holds x <= threshold(b): the split semantics hosts use at inference
    for b in range(m.n_bins(0) - 1):
        assert (X[B[:, 0] <= b, 0] <= m.threshold(0, b)).all()
        assert (X[B[:, 0] > b, 0] > m.threshold(0, b)).all()


def test_binning_rejects_bad_input():
    with pytest.raises(InputError):
        BinMapper.fit(np.array([[np.inf]]), 8)
    with pytest.raises(InputError):
        BinMapper.fit(np.zeros((4, 2)), 8).transform(np.zeros((4, 3)))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 400), st.integers(0, 2**31 - 1), st.integers(6, 20))
def test_packing_roundtrip_of_signed_sums(rows, seed, precision):
    n = (1 << 1023) + 1155  # any odd modulus of the right size: packing is plaintext maths
    rng = np.random.default_rng(seed)
    g, h = rng.normal(size=rows) * 3, rng.uniform(0, 2, rows)
    pk = GHPacker.fit(g, h, capacity_bits=n.bit_length() - 2, precision_bits=precision)
    enc = pk.encode_rows(g, h)
    subsets = [rng.random(rows) < 0.5 for _ in range(2 * pk.slots + 3)]
    sums = [sum(e for e, s in zip(enc, m, strict=True) if s) % n for m in subsets]
    packed = []
    for i in range(0, len(sums), pk.slots):
        chunk = sums[i:i + pk.slots]
        packed.append(sum(v * (1 << (pk.slot_bits * j)) for j, v in enumerate(
            (s if s <= n // 2 else s - n) for s in chunk)) % n)
    centred = [v if v <= n // 2 else v - n for v in packed]  # as decrypt_signed_int reads them
    G, H = pk.decode_packed(centred, len(sums))
    tol_g = rows * 0.5 / pk.g_scale + 1e-9
    tol_h = rows * 0.5 / pk.h_scale + 1e-9
    for i, m in enumerate(subsets):
        assert abs(G[i] - g[m].sum()) <= tol_g and abs(H[i] - h[m].sum()) <= tol_h


def test_packing_width_is_checked_against_the_key():
    g, h = np.ones(10), np.ones(10)
    with pytest.raises(EncodingOverflowError):
        GHPacker.fit(g, h, capacity_bits=38, precision_bits=30)
    with pytest.raises(InputError):
        GHPacker.fit(g, -h, capacity_bits=1021, precision_bits=12)


def test_insecure_key_needs_flag():
    with pytest.raises(ConfigError):
        SecureBoostParams(key_bits=1024)


def test_encrypted_histograms_subtraction_and_packing_match_plaintext(keys):
    pk, sk = keys
    rng = np.random.default_rng(1)
    N, F, MB = 300, 4, 8
    bins = rng.integers(0, MB + 1, size=(N, F)).astype(np.uint8)
    g, h = rng.normal(size=N), rng.uniform(0, 0.25, N)
    packer = GHPacker.fit(g, h, capacity_bits=he.packing_bits(pk), precision_bits=16)
    cts = sk.encrypt(packer.encode_rows(g, h), precision=0).ciphertexts
    nsq = pk.ciphertext_modulus
    parent, child = np.arange(N), np.arange(0, N, 3)
    sib = np.setdiff1d(parent, child)
    derived = hist.subtract(hist.node_histogram(cts, parent, bins, MB + 1, nsq),
                            hist.node_histogram(cts, child, bins, MB + 1, nsq), nsq)
    counts = np.stack([np.bincount(bins[sib, f], minlength=MB + 1) for f in range(F)])
    feats, bb, ml = candidate_table(counts, MB, 3)
    sums = hist.candidate_sums(derived, feats, bb, missing_left=ml, missing_bin=MB, nsq=nsq)
    packed = hist.pack(sums, packer.slot_bits, packer.slots, nsq)
    assert packed.size == -(-feats.size // packer.slots)
    G, H = packer.decode_packed(
        sk.decrypt_signed_int(he.from_ciphertexts(pk, packed, masked=True)), feats.size)
    f2, b2, _m2, GL, HL = own_candidates(bins[sib], g[sib], h[sib], MB, 3)
    np.testing.assert_array_equal(f2, feats)
    np.testing.assert_array_equal(b2, bb)
    np.testing.assert_allclose(G, GL, atol=1e-3)
    np.testing.assert_allclose(H, HL, atol=1e-3)


def test_candidate_table_rules():
    counts = np.array([[5, 0, 5, 5, 6]])  # 4 value bins + missing bin
    feats, bins, ml = candidate_table(counts, 4, 5)
    got = set(zip(bins.tolist(), ml.tolist(), strict=True))
    # bin 1 is empty (would repeat bin 0); every side keeps >= 5 rows
    assert got == {(0, False), (2, False), (3, False), (0, True), (2, True)}
    assert (feats == 0).all()


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 50).astype(float)
    s = rng.normal(size=(50, 3))
    from coalition.protocols.secureboost.objectives import loss

    g, _ = gradients(Objective.MULTICLASS, y, s)
    eps = 1e-6
    for k in range(3):
        d = np.zeros_like(s)
        d[0, k] = eps
        num = (loss(Objective.MULTICLASS, y, s + d) - loss(Objective.MULTICLASS, y, s - d)) / (2 * eps)
        assert abs(num * 50 - g[0, k]) < 1e-5


class _TwoWorkers:
    """An executor that claims two workers but maps in-line: exercises the chunking."""

    workers = 2

    def map(self, fn, items):
        return [fn(x) for x in items]


def test_parallel_histogram_and_packing_equal_serial():
    import gmpy2

    rng = np.random.default_rng(5)
    nsq = gmpy2.mpz((1 << 255) + 95) ** 2
    N, F = 12_000, 5
    cts = np.array([gmpy2.mpz(int(x)) for x in rng.integers(1, 2**62, N)], dtype=object)
    bins = rng.integers(0, 9, size=(N, F)).astype(np.uint8)
    rows = np.arange(0, N, 1, dtype=np.int64)
    serial = hist.node_histogram(cts, rows, bins, 9, nsq)
    parallel = hist.node_histogram(cts, rows, bins, 9, nsq, executor=_TwoWorkers())
    assert (serial == parallel).all()
    sums = serial.ravel()
    assert (hist.pack(sums, 20, 3, nsq) == hist.pack(sums, 20, 3, nsq, _TwoWorkers())).all()


def test_packed_values_with_bits_above_the_slots_are_refused():
    """A crafted ciphertext (under OU, a residue mod p) cannot pass as packed sums."""
    g, h = np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.2, 0.3])
    packer = GHPacker.fit(g, h, capacity_bits=338, precision_bits=12)
    honest = sum(v << (packer.slot_bits * j) for j, v in enumerate(packer.encode_rows(g, h)))
    G, _H = packer.decode_packed([honest], 3)
    np.testing.assert_allclose(G, g, atol=1e-3)
    with pytest.raises(ProtocolError):
        packer.decode_packed([honest + (1 << (packer.slot_bits * packer.slots))], 3)
    with pytest.raises(ProtocolError):
        packer.decode_packed([(1 << 337) - 12345], 3)


def _histogram_by_rows(cts, rows, bins, n_cols, nsq):
    """Per (feature, bin): the product of the node's ciphertexts, one row at a time."""
    import gmpy2

    out = np.empty((bins.shape[1], n_cols), dtype=object)
    for f in range(bins.shape[1]):
        for c in range(n_cols):
            acc = gmpy2.mpz(1)
            for r in rows[bins[rows, f] == c]:
                acc = acc * cts[r] % nsq
            out[f, c] = acc
    return out


@pytest.mark.parametrize(("n", "f", "n_cols"), [(2000, 5, 9), (60, 4, 33), (900, 7, 33),
                                                 (1, 3, 4), (800, 1, 9), (1000, 6, 3)])
def test_paired_histograms_give_the_row_by_row_ciphertexts(n, f, n_cols, monkeypatch):
    """Joint (bin_a, bin_b) cells for feature pairs where they pay (many rows, few cells), one
    feature at a time where they do not (60 rows in 33² cells), odd features left single:
    always the same products of the same ciphertexts."""
    import gmpy2

    rng = np.random.default_rng(n + f)
    nsq = gmpy2.mpz((1 << 255) + 95) ** 2
    cts = np.array([gmpy2.mpz(int(x)) for x in rng.integers(1, 2**62, n)], dtype=object)
    bins = rng.integers(0, n_cols, size=(n, f)).astype(np.uint8)
    bins[: n // 2, 0] = 0  # a skewed feature: few joint cells
    rows = np.sort(rng.choice(n, size=max(1, n // 2), replace=False))
    want = _histogram_by_rows(cts, rows, bins, n_cols, nsq)
    assert (hist.node_histogram(cts, rows, bins, n_cols, nsq) == want).all()
    monkeypatch.setattr(hist, "_MIN_PARALLEL_CELLS", 0)  # split by feature pairs, too
    assert (hist.node_histogram(cts, rows, bins, n_cols, nsq, executor=_TwoWorkers())
            == want).all()


def test_feature_groups_join_features_while_joint_cells_save_products():
    rng = np.random.default_rng(3)
    few = rng.integers(0, 3, size=(2000, 5))  # 3 bins each: 3^k cells, far below 2000 rows
    groups = hist.feature_groups(few, 3)
    assert [g for g, _ in groups] == [[0, 1, 2, 3, 4]]
    ids = groups[0][1]
    assert (ids == few @ (3 ** np.arange(4, -1, -1))).all()  # mixed-radix joint cell ids
    many = rng.integers(0, 33, size=(40, 3))  # 40 rows, ~40 distinct pairs: no saving
    assert [g for g, _ in hist.feature_groups(many, 33)] == [[0], [1], [2]]
