"""Group-by aggregates over the intersection: the guest's groups, a host's numeric columns.

The guest (group owner) holds a group column (an age band, a region); the host (value owner)
holds numeric columns (ARPU). Rows are aligned (PSI, then both sort by canonical ID). Per group
``g`` the guest obtains the row count and a noisy sum (hence a mean) of each host column:

1. the guest encrypts its 0/1 group indicators ``[[b_gr]]`` (Paillier, a fresh key of its
   own; one row per group, one column per aligned row) and sends them with the public key;
2. the host clips each value to the range it declared itself, ``x' = clip(x, low, high) -
   low`` (fixed point, 2^-16), computes ``[[Σ_r b_gr · x'_r]]`` per group and column, adds
   Laplace noise of scale ``(high - low) / epsilon`` drawn from the operating system's CSPRNG
   (``secrets.SystemRandom``), re-randomises and sends the sums;
3. the guest decrypts, adds back ``low · count_g`` (it knows its own counts) and suppresses
   every group with fewer than ``min_count`` rows (k rule, at least 10).

Who learns what. The host learns ciphertexts only (semantic security of Paillier): not which
row is in which group, not a count, not a sum; it sends nothing else. The guest learns, per
group of at least ``min_count`` rows, each host column's clipped sum plus Laplace noise — its
counts are its own. The host's guarantee does not rest on the guest's honesty about group
sizes, which it cannot see: each released sum changes by at most ``high - low`` when one row's
value changes, so the Laplace noise makes each group's release ``epsilon``-differentially
private for that row (Dwork et al., *Calibrating Noise to Sensitivity*, TCC 2006); a guest
that forms a group of one row learns that row's clipped value plus noise of scale
``(high - low) / epsilon`` and no better. With at most ``max_groups`` groups (the host's own
cap) the loss per column is at most ``max_groups · epsilon`` however the groups overlap.

Limitation (stated in docs/templates/cross_analysis.md): the host cannot check that the
indicators are bits. A guest that encrypts weights (``2^40`` for one row) amplifies that row
in a sum above the noise; a zero-knowledge proof that each indicator is 0 or 1
(Damgård–Jurik–Nielsen 2010, §5) would close it and is not implemented. Against a
semi-honest guest, and against one that only chooses groups (of any size), the guarantee
above holds.
"""

from __future__ import annotations

import math
import secrets
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core.context import Context
from coalition.core.errors import InputError, ProtocolError
from coalition.crypto.paillier import (
    EncryptedArray,
    InsecureKeyWarning,
    PaillierPublicKey,
    generate_keypair,
)
from coalition.protocols.feature.spec import GROUP_INDICATORS, GROUP_SUMS, GroupByParams

__all__ = ["FRACTION_BITS", "GroupSums", "group_owner_sums", "laplace", "value_owner_sums"]

FRACTION_BITS = 16  # fixed point of the clipped values and the noise


def laplace(scale: float, size: int) -> NDArray[np.float64]:
    """Laplace(0, ``scale``) draws by inverse CDF from the OS CSPRNG (never numpy's PRNG)."""
    rng = secrets.SystemRandom()
    out = np.empty(size)
    for i in range(size):
        u = rng.random() - 0.5  # in [-0.5, 0.5)
        out[i] = -scale * math.copysign(1.0, u) * math.log(max(1.0 - 2.0 * abs(u), 1e-300))
    return out


@dataclass(frozen=True)
class GroupSums:
    """What the guest obtains: per group, its count, and per host column the noisy sum."""

    groups: list[str]
    counts: NDArray[np.int64]
    columns: list[str]
    sums: NDArray[np.float64]  # (groups, columns): clipped sums plus the host's noise
    ranges: dict[str, tuple[float, float]]
    epsilon: float


def group_owner_sums(comm: Context, groups: list[str], codes: NDArray[np.int64],
                     params: GroupByParams) -> dict[str, GroupSums]:
    """Guest: send encrypted indicators of ``codes`` (group index per aligned row, into
    ``groups``), return each host's :class:`GroupSums` (every group, before suppression)."""
    n, g = codes.size, len(groups)
    indicators = np.zeros((g, n), dtype=np.int64)
    indicators[codes, np.arange(n)] = 1
    with warnings.catch_warnings():
        if params.allow_insecure_key:
            warnings.simplefilter("ignore", InsecureKeyWarning)
        pk, sk = generate_keypair(params.key_bits, allow_insecure=params.allow_insecure_key)
    comm.send(comm.hosts, GROUP_INDICATORS, {"key": pk, "indicators": sk.encrypt_int(indicators)})
    counts = indicators.sum(axis=1)
    out: dict[str, GroupSums] = {}
    for host in comm.hosts:
        msg = comm.recv(host, GROUP_SUMS)
        enc = msg.get("sums") if isinstance(msg, dict) else None
        columns, ranges, epsilon = ((msg.get("columns"), msg.get("ranges"), msg.get("epsilon"))
                                    if isinstance(msg, dict) else (None, None, None))
        if (not isinstance(enc, EncryptedArray) or enc.public_key != pk
                or not isinstance(columns, list) or not isinstance(ranges, list)
                or len(ranges) != len(columns) or enc.shape != (g, len(columns))
                or not isinstance(epsilon, float)):
            raise ProtocolError("malformed group sums", party=str(host))
        lows = np.array([float(r[0]) for r in ranges])
        raw = np.array(sk.decrypt_signed_int(enc), dtype=np.float64).reshape(g, len(columns))
        sums = raw / 2.0 ** FRACTION_BITS + counts[:, None] * lows[None, :]
        out[str(host)] = GroupSums(list(groups), counts, [str(c) for c in columns], sums,
                                   {str(c): (float(r[0]), float(r[1]))
                                    for c, r in zip(columns, ranges, strict=True)}, epsilon)
    return out


def value_owner_sums(comm: Context, values: NDArray[np.float64], columns: list[str],
                     params: GroupByParams) -> None:
    """Host: clipped, noisy encrypted sums of ``values`` (aligned rows × ``columns``) per
    group of the guest's encrypted indicators (module docstring). Its own checks: every
    column has a declared range, at most ``max_groups`` groups, one indicator per row."""
    missing = [c for c in columns if c not in params.value_ranges]
    if missing:
        raise InputError("declare a value range for every value column", columns=missing)
    msg = comm.recv(comm.guest, GROUP_INDICATORS)
    enc = msg.get("indicators") if isinstance(msg, dict) else None
    if (not isinstance(enc, EncryptedArray) or not isinstance(msg.get("key"), PaillierPublicKey)
            or enc.public_key != msg["key"] or enc.ndim != 2 or enc.scale_bits != 0):
        raise ProtocolError("malformed group indicators")
    if enc.shape[1] != values.shape[0]:
        raise InputError("host rows are not aligned with the guest's (run psi first)",
                         guest=enc.shape[1], host=values.shape[0])
    if enc.shape[0] > params.max_groups:
        raise ProtocolError("more groups than this party aggregates in one run",
                            groups=enc.shape[0], max_groups=params.max_groups)
    if np.isnan(values).any():
        raise InputError("value columns must have no missing values (impute first)")
    ranges = [params.value_ranges[c] for c in columns]
    lows = np.array([r[0] for r in ranges])
    highs = np.array([r[1] for r in ranges])
    clipped = np.clip(values, lows, highs) - lows
    scaled: NDArray[Any] = np.empty(clipped.shape, dtype=object)
    scaled[:] = [[int(v) for v in row] for row in np.rint(clipped * 2.0 ** FRACTION_BITS)]
    groups = enc.shape[0]
    sums = [[enc[k].mul(scaled[:, j]).sum() for j in range(len(columns))] for k in range(groups)]
    noise = np.empty((groups, len(columns)), dtype=object)
    for j in range(len(columns)):
        draws = laplace(float(highs[j] - lows[j]) / params.epsilon, groups)
        noise[:, j] = [int(v) for v in np.rint(draws * 2.0 ** FRACTION_BITS)]
    flat = EncryptedArray.concatenate([s.reshape(1) for row in sums for s in row])
    noisy = (flat.reshape(groups, len(columns)) + noise).rerandomize()
    comm.send(comm.guest, GROUP_SUMS, {"columns": list(columns),
                                       "ranges": [[float(lo), float(hi)] for lo, hi in ranges],
                                       "epsilon": float(params.epsilon), "sums": noisy})
