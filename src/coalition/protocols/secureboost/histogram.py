"""Encrypted histograms on a host, on raw ciphertexts (object arrays of ``mpz``).

Homomorphic addition is multiplication mod the key's ``ciphertext_modulus`` (``n²`` for
Paillier, ``n`` for OU; the argument ``nsq`` below); everything here is vectorised over numpy
object arrays, so Python only loops over O(log rows) reduction rounds or over the bins:

* :func:`node_histogram` — per-(feature, bin) sums of a node's rows by a segmented pairwise
  product (every (row, feature) cell sorted into its bin group once, then halved per round),
  with features taken two at a time: a pair's rows are first multiplied into their joint
  ``(bin_a, bin_b)`` cells (at most ``(bins+1)²``, about 1.1k at 32 bins), and both
  features' histograms are then products of those cells. That is ``N + 2·cells``
  multiplications per pair instead of ``2·N`` — nearly half at the root of a 30k-row tree —
  and the result is the same product of the same ciphertexts (multiplication mod ``nsq`` is
  commutative), so the same ciphertexts. A pair whose joint cells are not fewer than its rows
  (small nodes) is accumulated feature by feature as before;
* :func:`subtract` — the sibling's histogram from parent and child (histogram subtraction,
  LightGBM; Ke et al., NeurIPS 2017), with Montgomery's batch inversion across bins;
* :func:`candidate_sums` — left-side sums of the shuffled candidates from bin prefixes;
* :func:`pack` — several sums into one ciphertext, ``c_0 · c_1^(2^w) · …`` (Horner).

Plaintext slots never leave the guest's key; these functions never see a plaintext.
"""

from __future__ import annotations

from typing import Any

import gmpy2
import numpy as np

from coalition.compute import chunk_slices
from coalition.core import CryptoError, Executor

__all__ = ["candidate_sums", "node_histogram", "pack", "segment_products", "subtract"]

ObjArray = np.ndarray[Any, np.dtype[np.object_]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
_ONE = gmpy2.mpz(1)
_MIN_PARALLEL_CELLS = 50_000  # (row, feature) cells below which a process hop costs more
_MIN_PACK_CHUNK = 4  # packed ciphertexts per process hop (each costs ~slots·w squarings)


def _ones(shape: int | tuple[int, ...]) -> ObjArray:
    out = np.empty(shape, dtype=object)
    out.fill(_ONE)
    return out


def segment_products(vals: ObjArray, gids: IntArray, n_groups: int, nsq: Any) -> ObjArray:
    """Product mod ``nsq`` of ``vals`` per group id; empty groups give 1 (Enc(0), no noise)."""
    order = np.argsort(gids, kind="stable")
    v, g = vals[order], gids[order]
    while v.size:
        idx = np.arange(v.size)
        starts = np.ones(v.size, dtype=np.bool_)
        starts[1:] = g[1:] != g[:-1]
        rank = idx - np.maximum.accumulate(np.where(starts, idx, 0))
        even = rank % 2 == 0
        has_next = np.zeros(v.size, dtype=np.bool_)
        has_next[:-1] = ~starts[1:]
        pair = np.nonzero(even & has_next)[0]
        if pair.size == 0:
            break
        v[pair] = v[pair] * v[pair + 1] % nsq
        v, g = v[even], g[even]
    out = _ones(n_groups)
    out[g] = v
    return out


def node_histogram(cts: ObjArray, rows: IntArray, bins: np.ndarray[Any, Any], n_cols: int,
                   nsq: Any, *, executor: Executor | None = None) -> ObjArray:
    """Encrypted sums per (feature, bin) of ``cts[rows]``; shape ``(features, n_cols)``.

    Large nodes are split by feature over ``executor`` (each task carries the node's
    ciphertexts once, so only nodes of at least ``_MIN_PARALLEL_CELLS`` cells are worth it).
    """
    n_feat = bins.shape[1]
    if rows.size == 0:
        return _ones((n_feat, n_cols))
    node_cts, node_bins = cts[rows], bins[rows]
    workers = executor.workers if executor is not None else 1
    if executor is None or workers <= 1 or n_feat < 2 or (
            rows.size * n_feat < _MIN_PARALLEL_CELLS):
        return _histogram((node_cts, node_bins, n_cols, nsq))
    # split between feature pairs, so every pair stays joint (see _histogram)
    pairs = [slice(2 * s.start, min(n_feat, 2 * s.stop))
             for s in chunk_slices(-(-n_feat // 2), workers)]
    parts = executor.map(_histogram, [(node_cts, node_bins[:, s], n_cols, nsq) for s in pairs])
    return np.concatenate(parts, axis=0)


def _histogram(task: tuple[ObjArray, np.ndarray[Any, Any], int, Any]) -> ObjArray:
    cts, bins, n_cols, nsq = task
    n_feat = bins.shape[1]
    b = bins.astype(np.int64)
    cells = n_cols * n_cols
    # features paired (0,1), (2,3), …; keep a pair only where its joint cells save work
    firsts = np.arange(0, n_feat - 1, 2, dtype=np.int64)
    joint = b[:, firsts] * n_cols + b[:, firsts + 1]  # (rows, pairs)
    keep = np.array([np.unique(joint[:, k]).size < cts.size for k in range(firsts.size)],
                    dtype=np.bool_)
    firsts, joint = firsts[keep], joint[:, keep]
    paired = np.zeros(n_feat, dtype=np.bool_)
    paired[firsts], paired[firsts + 1] = True, True
    singles = np.nonzero(~paired)[0]
    vals: list[ObjArray] = []
    gids: list[IntArray] = []
    if firsts.size:
        jids = (joint + np.arange(firsts.size, dtype=np.int64) * cells).ravel()
        prods = segment_products(np.repeat(cts, firsts.size), jids, firsts.size * cells, nsq)
        used = np.unique(jids)  # non-empty joint cells only: an empty one would cost a product
        pair, rest = np.divmod(used, cells)
        bin_a, bin_b = np.divmod(rest, n_cols)
        vals += [prods[used], prods[used]]
        gids += [firsts[pair] * n_cols + bin_a, (firsts[pair] + 1) * n_cols + bin_b]
    if singles.size:
        vals.append(np.repeat(cts, singles.size))
        gids.append((b[:, singles] + singles * n_cols).ravel())
    return segment_products(np.concatenate(vals), np.concatenate(gids), n_feat * n_cols,
                            nsq).reshape(n_feat, n_cols)


def subtract(parent: ObjArray, child: ObjArray, nsq: Any) -> ObjArray:
    """``parent - child`` bin by bin: parent · child⁻¹, one modular inverse per feature."""
    n_cols = child.shape[1]
    prefix = np.empty_like(child)
    prefix[:, 0] = child[:, 0]
    for b in range(1, n_cols):
        prefix[:, b] = prefix[:, b - 1] * child[:, b] % nsq
    try:
        inv = np.array([gmpy2.invert(x, nsq) for x in prefix[:, -1]], dtype=object)
    except ZeroDivisionError as exc:
        raise CryptoError("ciphertext is not invertible modulo n^2") from exc
    out = np.empty_like(child)
    for b in range(n_cols - 1, 0, -1):
        out[:, b] = parent[:, b] * (inv * prefix[:, b - 1] % nsq) % nsq
        inv = inv * child[:, b] % nsq
    out[:, 0] = parent[:, 0] * inv % nsq
    return out


def candidate_sums(hist: ObjArray, feats: IntArray, bins: IntArray, *,
                   missing_left: np.ndarray[Any, np.dtype[np.bool_]], missing_bin: int,
                   nsq: Any) -> ObjArray:
    """Encrypted left-child sums of the candidates ``(feats, bins, missing_left)``."""
    prefix = np.empty((hist.shape[0], missing_bin), dtype=object)
    prefix[:, 0] = hist[:, 0]
    for b in range(1, missing_bin):
        prefix[:, b] = prefix[:, b - 1] * hist[:, b] % nsq
    left: ObjArray = prefix[feats, bins]
    if missing_left.any():
        m = np.nonzero(missing_left)[0]
        left[m] = left[m] * hist[feats[m], missing_bin] % nsq
    return left


def pack(sums: ObjArray, slot_bits: int, slots: int, nsq: Any,
         executor: Executor | None = None) -> ObjArray:
    """Pack ``slots`` sums per ciphertext, the first sum in the lowest slot.

    Costs ``slot_bits`` squarings mod n² per sum (the shifts), the dominant host cost, so
    ciphertext rows are spread over ``executor`` when it has several workers.
    """
    n_ct = -(-sums.size // slots)
    grid = _ones(n_ct * slots)
    grid[: sums.size] = sums
    grid = grid.reshape(n_ct, slots)
    workers = executor.workers if executor is not None else 1
    if executor is None or workers <= 1 or n_ct < 2 * _MIN_PACK_CHUNK:
        return _pack_rows((grid, slot_bits, nsq))
    parts = executor.map(_pack_rows, [(grid[s], slot_bits, nsq) for s in
                                      chunk_slices(n_ct, workers, min_size=_MIN_PACK_CHUNK)])
    return np.concatenate(parts)


def _pack_rows(task: tuple[ObjArray, int, Any]) -> ObjArray:
    grid, slot_bits, nsq = task
    shift = gmpy2.mpz(1) << slot_bits
    acc = grid[:, -1].copy()
    for j in range(grid.shape[1] - 2, -1, -1):
        acc = np.array([gmpy2.powmod(c, shift, nsq) for c in acc], dtype=object) * grid[:, j] % nsq
    return acc
