"""WOE and IV per bin, and the hetero exchange that gives the guest host bins' label counts.

``woe_i = ln((e_i / E) / (n_i / N))`` and ``IV = Σ_i (e_i / E - n_i / N) · woe_i`` over bins with
rows, where ``e_i``/``n_i`` are the events (label 1) and non-events in bin ``i`` and ``E``/``N``
their totals; a bin with no events or no non-events adds ``adjustment`` (0.5) to both of its
counts, as FATE does.

The hetero exchange follows FATE's hetero feature binning (FATE 1.x
``federatedml/feature/hetero_feature_binning``, Yang et al., *Federated Machine Learning:
Concept and Applications*, ACM TIST 2019):

1. the guest sends ``[[y_r]]`` (Paillier, its own fresh key) for every aligned row ``r``;
2. for each of its features the host sums the ciphertexts of the rows in each bin
   (``group_sum``), adds a fresh secret multiple of ``rows + 1`` to each bin's sum
   (``m_b · (n_b + 1)``, ``m_b`` drawn with ``secrets`` so that the mask is uniform over the
   multiples of ``n_b + 1`` below a third of the key's modulus, the largest plaintext the
   encoding takes), shuffles the bins with a fresh
   secret permutation, re-randomises the sums and sends them with the plaintext row count
   ``n_b`` of each shuffled bin;
3. the guest decrypts, reduces each bin's value modulo ``n_b + 1`` — an honest event count is
   at most ``n_b``, so this is exact — and computes WOE and IV per host feature.

Why the mask (security): the host cannot check that ``[[y_r]]`` holds a bit. A guest that
encrypts packed "labels" (``y_r = 2^(20·r)``) would otherwise read, from one bin sum, exactly
which rows fall in that bin — the host feature's binning row by row (FATE's exchange has this
hole). With the mask the guest learns only ``Σ y_r mod (n_b + 1)`` per bin: what honest 0/1
labels give, and about ``log2(n_b + 1) + 1.6`` bits a bin for any choice of plaintexts (the
mask covers a third of the plaintext space, so ``log2 3`` bits of the rest can show). What
remains is inherent in the function: a guest that lies with 0/1 labels (a single 1 on a target
row) learns that row's shuffled bin; ``tests/security/test_binning_label_packing.py`` plays both.

Who learns what. The host learns ciphertexts only (semantic security of Paillier) and nothing
is sent back to it: it never sees a label, an event count, a WOE or an IV. The guest learns,
for each host feature, the multiset of (rows, events) per bin — the per-bin counts FATE's guest
also learns — and hence the feature's IV; it never learns a bin edge, a category, which
shuffled bin is which interval, or which row falls in which bin. Bin counts can hint at the
binning (a quantile binning has near-equal counts), which the documentation states.
"""

from __future__ import annotations

import math
import secrets
import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import MessageKey
from coalition.core.context import Context
from coalition.core.errors import InputError, ProtocolError
from coalition.crypto.paillier import (
    EncryptedArray,
    InsecureKeyWarning,
    PaillierPublicKey,
    generate_keypair,
)

__all__ = ["ENC_LABELS", "HOST_BIN_SUMS", "binary_labels", "guest_host_counts", "host_bin_sums", "woe_iv"]

ENC_LABELS = MessageKey("fe_enc_labels", "guest -> host: {key, labels: [[y_r]] per row}")
HOST_BIN_SUMS = MessageKey(
    "fe_host_bin_sums", "host -> guest: {feature: {events: [[Σ y]] per shuffled bin, rows}}")

DEFAULT_ADJUSTMENT = 0.5


def woe_iv(events: NDArray[np.int64], rows: NDArray[np.int64],
           adjustment: float = DEFAULT_ADJUSTMENT) -> tuple[list[float | None], float]:
    """WOE per bin (``None`` for an empty bin) and the feature's IV (module docstring)."""
    non = rows - events
    total_e, total_n = float(events.sum()), float(non.sum())
    if total_e == 0 or total_n == 0:
        raise InputError("WOE needs both classes among the labelled rows")
    woe: list[float | None] = []
    iv = 0.0
    for e, n, r in zip(events.tolist(), non.tolist(), rows.tolist(), strict=True):
        if r == 0:
            woe.append(None)
            continue
        adj = adjustment if e == 0 or n == 0 else 0.0
        pe, pn = (e + adj) / total_e, (n + adj) / total_n
        w = math.log(pe / pn)
        woe.append(w)
        iv += (pe - pn) * w
    return woe, iv


def binary_labels(y: NDArray[np.float64]) -> NDArray[np.int64]:
    """Labels as 0/1 integers; :class:`InputError` for anything else (NaN, other classes)."""
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise InputError("WOE and IV need labels in {0, 1}")
    return y.astype(np.int64)


def guest_host_counts(comm: Context, y: NDArray[np.float64], key_bits: int,
                      allow_insecure_key: bool) -> dict[str, dict[str, dict[str, Any]]]:
    """Guest: ``{host: {feature: {"events": int array, "rows": int array}}}`` (shuffled bins)."""
    labels = binary_labels(y)
    with warnings.catch_warnings():
        if allow_insecure_key:
            warnings.simplefilter("ignore", InsecureKeyWarning)
        pk, sk = generate_keypair(key_bits, allow_insecure=allow_insecure_key)
    comm.send(comm.hosts, ENC_LABELS, {"key": pk, "labels": sk.encrypt_int(labels)})
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for host in comm.hosts:
        msg = comm.recv(host, HOST_BIN_SUMS)
        if not isinstance(msg, dict):
            raise ProtocolError("malformed bin sums", party=str(host))
        feats: dict[str, dict[str, Any]] = {}
        for name, part in msg.items():
            enc, rows = (part.get("events"), part.get("rows")) if isinstance(part, dict) \
                else (None, None)
            if (not isinstance(name, str) or not isinstance(enc, EncryptedArray)
                    or enc.public_key != pk or not isinstance(rows, np.ndarray)
                    or rows.dtype.kind not in "iu" or enc.shape != rows.shape
                    or rows.sum() != labels.size or (rows < 0).any()):
                raise ProtocolError("malformed bin sums", party=str(host))
            # The host masked each sum with a multiple of rows + 1 (module docstring).
            events = np.array([int(v) % (int(r) + 1) for v, r in
                               zip(sk.decrypt_int(enc), rows.tolist(), strict=True)],
                              dtype=np.int64)
            if int(events.sum()) != int(labels.sum()):
                raise ProtocolError("bin sums inconsistent with the labels", party=str(host))
            feats[name] = {"events": events, "rows": rows.astype(np.int64)}
        out[str(host)] = feats
    return out


def host_bin_sums(comm: Context, codes: dict[str, NDArray[np.int64]],
                  bins: dict[str, int]) -> None:
    """Host: per feature, encrypted label sums per bin, shuffled, with each bin's row count."""
    msg = comm.recv(comm.guest, ENC_LABELS)
    enc = msg.get("labels") if isinstance(msg, dict) else None
    if (not isinstance(enc, EncryptedArray) or not isinstance(msg.get("key"), PaillierPublicKey)
            or enc.public_key != msg["key"] or enc.ndim != 1 or enc.scale_bits != 0):
        raise ProtocolError("malformed encrypted labels")
    n = next(iter(codes.values())).size if codes else enc.shape[0]
    if enc.shape[0] != n:
        raise InputError("host rows are not aligned with the guest's (run psi first)",
                         guest=enc.shape[0], host=n)
    out: dict[str, Any] = {}
    rng = secrets.SystemRandom()
    limit = int(msg["key"].n) // 3  # plaintexts the encoding takes (|m| < n/3)
    for name, c in codes.items():
        perm = list(range(bins[name]))
        rng.shuffle(perm)
        order = np.asarray(perm, dtype=np.int64)
        rows = np.bincount(c, minlength=bins[name]).astype(np.int64)[order]
        masks = np.empty(rows.size, dtype=object)
        masks[:] = [secrets.randbelow(limit // (int(r) + 1) - 1) * (int(r) + 1)
                    for r in rows.tolist()]
        sums = (enc.group_sum(c, bins[name])[order] + masks).rerandomize()
        out[name] = {"events": sums, "rows": rows}
    comm.send(comm.guest, HOST_BIN_SUMS, out)
