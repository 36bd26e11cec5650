"""KKRT building blocks: cuckoo hashing, item hashing, bins, codewords, matching."""

import hashlib
import os

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from coalition.core.errors import ConfigError, InputError, ProtocolError
from coalition.protocols.psi.kkrt.cuckoo import EMPTY, bin_count, cuckoo_insert
from coalition.protocols.psi.kkrt.extension import ColumnPrg, match_values, s_mask
from coalition.protocols.psi.kkrt.hashing import (
    candidate_bins,
    codewords,
    derive_keys,
    hash_ids,
)
from coalition.protocols.psi.kkrt.spec import KkrtSetup, default_chunk_bins


def _keys():
    return derive_keys(os.urandom(32), os.urandom(32))


def test_bin_count_follows_the_fitted_bound():
    assert bin_count(0, 40) == 64
    assert bin_count(10, 40) >= 74
    e = bin_count(2**20, 40) / 2**20
    assert 1.53 < e < 1.56  # stash-less 2^-40 at 2^20 needs ~1.54n (1.27n gives only ~2^-7)
    assert bin_count(2**20, 40) % 64 == 0
    assert bin_count(10**7, 40) / 10**7 > e  # more items, more bins per item
    with pytest.raises(InputError):
        bin_count(-1, 40)


@pytest.mark.parametrize("n", [1, 2, 7, 50, 300, 5000])
def test_cuckoo_places_every_item_in_one_of_its_bins(n):
    rng = np.random.default_rng(n)
    bins = bin_count(n, 40)
    for _ in range(20):
        cand = rng.integers(0, bins, size=(n, 3))
        table, which = cuckoo_insert(cand, bins)
        assert np.array_equal(table[cand[np.arange(n), which]], np.arange(n))
        assert np.count_nonzero(table != EMPTY) == n


def test_cuckoo_failure_is_a_typed_error():
    cand = np.tile([0, 1, 2], (4, 1))  # four items, three bins between them
    with pytest.raises(ProtocolError):
        cuckoo_insert(cand, 64)
    with pytest.raises(InputError):
        cuckoo_insert(np.array([[0, 1, 99]]), 64)


def test_item_hash_is_a_function_of_the_id_only():
    keys = _keys()
    ids = ["abc", "héllo", "x" * 40, "", "abc", "ab", "a\x00", "a", "日本語ID", "x" * 23]
    h = hash_ids(ids, keys)
    assert np.array_equal(h[0], h[4])
    assert np.unique(h, axis=0).shape[0] == len(ids) - 1  # "a\x00" != "a", "" is distinct
    # batch composition, order and the ASCII fast path do not matter
    for i, x in enumerate(ids):
        assert np.array_equal(hash_ids([x], keys)[0], h[i])
    assert np.array_equal(hash_ids(ids[::-1], keys), h[::-1])
    same_len = [f"id{i:04d}" for i in range(100)]
    assert np.array_equal(hash_ids(same_len, keys)[7], hash_ids(["x", same_len[7]], keys)[1])
    # other keys, other hashes
    assert not np.array_equal(hash_ids(ids, _keys()), h)


def test_item_hash_is_cbc_mac_of_length_prefixed_utf8():
    keys = derive_keys(b"r" * 32, b"s" * 32)
    x = "héllo wörld, a longer identifier"
    data = len(x.encode()).to_bytes(8, "little") + x.encode()
    data += bytes(-len(data) % 16)
    root = hashlib.blake2b(b"r" * 32 + b"s" * 32, digest_size=32,
                           person=b"coalition-kkrt").digest()
    ref_key = hashlib.blake2b(b"item-hash", key=root, digest_size=16,
                              person=b"coalition-kkrt").digest()
    ct = Cipher(algorithms.AES(ref_key), modes.CBC(bytes(16))).encryptor().update(data)
    assert hash_ids([x], keys)[0].tobytes() == ct[-16:]


def test_bins_are_exact_scaling_in_range():
    keys = _keys()
    items = hash_ids([str(i) for i in range(20000)], keys)
    for bins in (64, 1000, 1537920, 2**32):
        cand = candidate_bins(items, keys, bins)
        assert cand.shape == (20000, 3) and cand.min() >= 0 and cand.max() < bins
    first = keys.bins[0].encrypt(items[:50])
    cand = candidate_bins(items[:50], keys, 1000)
    assert cand[:, 0].tolist() == [(int(w) * 1000) >> 64 for w in first[:, 0]]
    counts = np.bincount(candidate_bins(items, keys, 8).ravel(), minlength=8)
    assert counts.min() > 0.9 * 60000 / 8


def test_codewords_are_block_major_and_differ_per_hash_index():
    keys = _keys()
    items = hash_ids(["a", "b"], keys)
    c0, c1 = codewords(keys, 0, items), codewords(keys, 1, items)
    assert c0.shape == (4, 2, 2)
    assert np.array_equal(c0[2], keys.code[0][2].encrypt(items))
    assert not np.any(c0 == c1)


def test_match_values_finds_exactly_the_equal_rows():
    rng = np.random.default_rng(3)
    mine = rng.integers(0, 256, size=(3000, 10), dtype=np.uint8)
    theirs = rng.integers(0, 256, size=(9000, 10), dtype=np.uint8)
    theirs[100:400] = mine[1000:1300]
    near = mine[5:8].copy()
    near[:, 9] ^= 1  # same 8-byte head, different tail: not a match
    theirs[500:503] = near
    ia, ib = match_values(mine, theirs)
    assert sorted(zip(ia.tolist(), ib.tolist(), strict=True)) == [
        (1000 + k, 100 + k) for k in range(300)]
    # repeated heads on the searched side take the exact slow path
    theirs[600, :8] = theirs[700, :8]
    mine[0], mine[1] = theirs[600], theirs[700]
    ia, ib = match_values(mine, theirs)
    pairs = set(zip(ia.tolist(), ib.tolist(), strict=True))
    assert {(0, 600), (1, 700)} <= pairs and len(pairs) == 302
    empty = np.zeros((0, 10), dtype=np.uint8)
    assert match_values(empty, theirs)[0].size == 0 and match_values(mine, empty)[1].size == 0


def test_column_prg_chunks_concatenate_and_secret_mask_layout():
    seeds = np.frombuffer(os.urandom(512 * 16), dtype=np.uint8).reshape(512, 16)
    a, b = ColumnPrg(seeds), ColumnPrg(seeds)
    whole = a.next(6)
    assert np.array_equal(np.concatenate([b.next(2), b.next(4)], axis=1), whole)
    bits = np.zeros(512, dtype=np.bool_)
    bits[[0, 65, 511]] = True
    mask = s_mask(bits)
    assert mask.tolist()[:2] == [1, 2] and mask[7] == np.uint64(1) << np.uint64(63)
    with pytest.raises(InputError):
        s_mask(bits[:10])


def test_setup_validation():
    good = KkrtSetup(seed=b"x" * 32, bins=640, chunk_bins=128)
    assert KkrtSetup.from_wire(good.to_wire(), 100) == good
    assert good.chunks == 5 and good.chunk_range(4) == (512, 640)
    for bad in ({**good.to_wire(), "bins": 65}, {**good.to_wire(), "chunk_bins": 100},
                {**good.to_wire(), "code_bits": 256}, {**good.to_wire(), "seed": "x"}, None):
        with pytest.raises(ConfigError):
            KkrtSetup.from_wire(bad, 100)
    with pytest.raises(ConfigError):
        KkrtSetup.from_wire(good.to_wire(), 1000)  # fewer bins than items


def test_default_chunks_pipeline_small_tables_and_cap_big_ones():
    assert default_chunk_bins(64) == 8192
    assert default_chunk_bins(151104) == 18944  # 100k items: 8 chunks
    assert default_chunk_bins(1537920) == 131072  # 1M items: 12 chunks of 8 MiB
    assert all(default_chunk_bins(b) % 64 == 0 for b in (64, 1000 * 64, 10**7))
