"""Cross-party Pearson correlation between guest and host columns by secret sharing.

Pearson's ``r(a, b) = (1/n) Σ_r z_a[r] · z_b[r]`` over standardised columns ``z = (x − μ)/σ``
(population σ, as ``numpy.corrcoef``). Each party standardises its own columns; the product
``Z_gᵀ Z_h`` of the guest's ``n × p`` and a host's ``n × q`` matrices is computed with a
dealer's multiplication triple (Beaver, *Commodity-Based Cryptography*, STOC 1997; the
two-party matrix form of SecureML, Mohassel & Zhang, IEEE S&P 2017) over the ring
``Z_{2^64}`` in fixed point with ``FRAC_BITS`` fractional bits:

1. guest and host tell the arbiter (the dealer) their matrix shapes; the dealer draws uniform
   ``U`` (``n × p``) for the guest, ``V`` (``n × q``) for the host and a uniform ``W₁``, and
   sends the guest ``(U, W₀ = UᵀV − W₁)``, the host ``(V, W₁)``;
2. the guest sends the host ``E = Z_g − U``, the host sends the guest ``F = Z_h − V``;
3. ``Z_gᵀ Z_h = Z_gᵀ F + Eᵀ V + Uᵀ V``: the guest holds ``Z_gᵀ F + W₀``, the host ``Eᵀ V + W₁``
   and sends it to the guest, which adds, decodes and divides by ``n``.

Who learns what. The host sees ``E`` (``Z_g`` masked by the uniform ``U``) and nothing else;
the guest sees ``F`` (masked by ``V``) and the host's share (masked by ``W₁``), so it learns
exactly the ``p × q`` correlations; the dealer learns the shapes and nothing about the data.
No raw or standardised column crosses. Security assumes the dealer colludes with neither
party (the same assumption as SS-LR with the arbiter as dealer); without an arbiter the
protocol is not offered. Precision: each product term carries a rounding error of at most
``2^-(FRAC_BITS+1)`` per factor, so ``|r − r_numpy| < 1e-6`` for any ``n``.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import MessageKey
from coalition.core.context import Context
from coalition.core.errors import ConfigError, InputError, ProtocolError
from coalition.core.ids import Party

__all__ = ["CORR_E", "CORR_F", "CORR_SHAPE", "CORR_SHARE", "CORR_TRIPLE", "FRAC_BITS",
           "dealer_triples", "guest_correlations", "host_correlations", "standardise"]

CORR_SHAPE = MessageKey("fe_corr_shape", "guest/host -> arbiter: {rows, cols}")
CORR_TRIPLE = MessageKey("fe_corr_triple", "arbiter -> guest/host: {mask, share} (uniform)")
CORR_E = MessageKey("fe_corr_e", "guest -> host: Z_g - U (masked)")
CORR_F = MessageKey("fe_corr_f", "host -> guest: Z_h - V (masked)")
CORR_SHARE = MessageKey("fe_corr_share", "host -> guest: its share of Z_g^T Z_h (masked)")

FRAC_BITS = 20
_MAX_ROWS = 1 << 22  # n · 2^(2·FRAC_BITS) must stay below 2^63
Ring = NDArray[np.uint64]


def standardise(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """``(x − μ)/σ`` per column (constant columns become 0) and which columns are constant.
    :class:`InputError` for missing values (impute or drop them first)."""
    if x.ndim != 2 or not np.isfinite(x).all():
        raise InputError("cross-party Pearson needs numeric columns without missing values")
    std = x.std(axis=0)
    constant = ~(std > 1e-12)
    z = (x - x.mean(axis=0)) / np.where(constant, 1.0, std)
    return np.where(constant, 0.0, z), constant


def _encode(z: NDArray[np.float64]) -> Ring:
    return np.round(z * (1 << FRAC_BITS)).astype(np.int64).astype(np.uint64)


def _uniform(shape: tuple[int, ...]) -> Ring:
    size = int(np.prod(shape))
    return np.frombuffer(secrets.token_bytes(8 * size), dtype=np.uint64).reshape(shape).copy()


def _ring(value: Any, shape: tuple[int, ...], what: str, peer: str) -> Ring:
    if not isinstance(value, np.ndarray) or value.dtype != np.uint64 or value.shape != shape:
        raise ProtocolError(f"malformed {what}", party=peer)
    return value


def _dealer(comm: Context) -> Party:
    if comm.arbiter is None:
        raise ConfigError("cross-party Pearson needs the arbiter as its dealer")
    return comm.arbiter


def _shape(msg: Any, peer: str) -> tuple[int, int]:
    rows, cols = (msg.get("rows"), msg.get("cols")) if isinstance(msg, dict) else (None, None)
    if not (isinstance(rows, int) and isinstance(cols, int) and 0 < rows <= _MAX_ROWS
            and 0 <= cols <= 10_000):
        raise ProtocolError("malformed matrix shape", party=peer)
    return rows, cols


def dealer_triples(comm: Context) -> None:
    """Arbiter: one matrix triple per host (module docstring); it sees only shapes."""
    n, p = _shape(comm.recv(comm.guest, CORR_SHAPE), str(comm.guest))
    for host in comm.hosts:
        sub = comm.sub(str(host))
        m, q = _shape(sub.recv(host, CORR_SHAPE), str(host))
        if m != n:
            raise InputError("guest and host rows differ (run psi first)", guest=n, host=m)
        u, v, w1 = _uniform((n, p)), _uniform((n, q)), _uniform((p, q))
        with np.errstate(over="ignore"):
            w0 = u.T @ v - w1
        sub.send(comm.guest, CORR_TRIPLE, {"mask": u, "share": w0})
        sub.send(host, CORR_TRIPLE, {"mask": v, "share": w1})


def _triple(msg: Any, peer: str) -> tuple[Any, Any]:
    if not isinstance(msg, dict):
        raise ProtocolError("malformed triple", party=peer)
    return msg.get("mask"), msg.get("share")


def guest_correlations(comm: Context, x: NDArray[np.float64]
                       ) -> dict[str, tuple[list[str], NDArray[np.float64]]]:
    """Guest: ``{host: (its column names, p × q Pearson matrix)}`` (NaN where either column
    is constant)."""
    z, constant = standardise(x)
    n, p = z.shape
    zg = _encode(z)
    dealer = _dealer(comm)
    comm.send(dealer, CORR_SHAPE, {"rows": n, "cols": p})
    out: dict[str, tuple[list[str], NDArray[np.float64]]] = {}
    for host in comm.hosts:
        sub, peer = comm.sub(str(host)), str(host)
        info = sub.recv(host, CORR_SHAPE)
        rows, q = _shape(info, peer)
        flat, names = info.get("constant"), info.get("names")
        if rows != n or not (isinstance(flat, np.ndarray) and flat.dtype == np.bool_
                             and flat.shape == (q,) and isinstance(names, list)
                             and len(names) == q and all(isinstance(c, str) for c in names)):
            raise ProtocolError("malformed matrix shape", party=peer)
        mask, w0 = _triple(sub.recv(dealer, CORR_TRIPLE), "arbiter")
        u = _ring(mask, (n, p), "triple", "arbiter")
        w0 = _ring(w0, (p, q), "triple", "arbiter")
        with np.errstate(over="ignore"):
            sub.send(host, CORR_E, zg - u)
            f = _ring(sub.recv(host, CORR_F), (n, q), "masked columns", peer)
            share = _ring(sub.recv(host, CORR_SHARE), (p, q), "share", peer)
            total = zg.T @ f + w0 + share
        r = total.astype(np.int64).astype(np.float64) / float(1 << (2 * FRAC_BITS)) / n
        r[constant, :] = np.nan
        r[:, flat] = np.nan
        out[peer] = (list(names), np.clip(r, -1.0, 1.0))
    return out


def host_correlations(comm: Context, x: NDArray[np.float64], names: list[str]) -> None:
    """Host: take part (module docstring); the guest learns the column names (schema, which
    partners see anyway) and which columns are constant."""
    z, constant = standardise(x)
    n, q = z.shape
    zh = _encode(z)
    sub, dealer = comm.sub(str(comm.party)), _dealer(comm)
    sub.send(dealer, CORR_SHAPE, {"rows": n, "cols": q})
    sub.send(comm.guest, CORR_SHAPE, {"rows": n, "cols": q, "constant": constant,
                                         "names": list(names)})
    mask, w1 = _triple(sub.recv(dealer, CORR_TRIPLE), "arbiter")
    v = _ring(mask, (n, q), "triple", "arbiter")
    if not isinstance(w1, np.ndarray) or w1.ndim != 2:
        raise ProtocolError("malformed triple", party="arbiter")
    w1 = _ring(w1, (w1.shape[0], q), "triple", "arbiter")
    e = _ring(sub.recv(comm.guest, CORR_E), (n, w1.shape[0]), "masked columns",
              str(comm.guest))
    with np.errstate(over="ignore"):
        sub.send(comm.guest, CORR_F, zh - v)
        sub.send(comm.guest, CORR_SHARE, e.T @ v + w1)
