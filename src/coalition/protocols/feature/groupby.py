"""Group-by aggregates over the intersection: the guest's groups, a host's numeric columns.

The guest (group owner) holds a group column (an age band, a region); the host (value owner)
holds numeric columns (ARPU). Rows are aligned (PSI, then both sort by canonical ID). Per group
``g`` the guest obtains the row count and a noisy sum (hence a mean) of each host column:

1. the guest encrypts its group indicators packed, one ciphertext per aligned row: row ``r``
   of group ``g`` is ``[[2^(96·g)]]`` (Paillier, a fresh key of its own; a 2048-bit key holds
   21 groups), and sends them with the number of groups and the public key;
2. the host clips each value to the range it declared itself, ``x' = clip(x, low, high) -
   low`` (fixed point, 2^-16), computes ``[[Σ_r x'_r · 2^(96·g_r)]]`` per column — every
   group's sum in its own 96-bit slot — and adds, in every slot, an offset and Laplace noise
   of scale ``(high - low) / epsilon`` drawn from the operating system's CSPRNG
   (``secrets.SystemRandom``); it re-randomises and sends one ciphertext per column;
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
indicators are one-hot slots. A guest that encrypts weights (``2^40`` in one row's slot)
amplifies that row in a sum above the noise; a zero-knowledge proof that each indicator
encrypts one of the ``2^(96·g)`` (a 1-out-of-G OR proof, Cramer–Damgård–Schoenmakers 1994 over
Paillier, Damgård–Jurik–Nielsen 2010) would close it and is not implemented. Against a
semi-honest guest, and against one that only chooses groups (of any size), the guarantee
above holds.
"""

from __future__ import annotations

import math
import secrets
import warnings
from dataclasses import dataclass

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

__all__ = ["FRACTION_BITS", "SLOT_BITS", "GroupSums", "group_owner_sums", "laplace",
           "slot_capacity", "unpack", "value_owner_sums"]

FRACTION_BITS = 16  # fixed point of the clipped values and the noise
SLOT_BITS = 96  # one group's sum per slot of a packed plaintext
SLOT_OFFSET = 1 << (SLOT_BITS - 2)  # keeps a slot's noisy sum non-negative


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


def slot_capacity(pk: PaillierPublicKey) -> int:
    """Groups that fit one packed plaintext (below ``n / 3``, the encoding's range)."""
    return (int(pk.n).bit_length() - 3) // SLOT_BITS


def unpack(value: int, groups: int) -> list[int]:
    """A decrypted packed sum: slot ``g`` minus its offset, i.e. group ``g``'s noisy sum in
    fixed point (may be negative)."""
    mask = (1 << SLOT_BITS) - 1
    return [((value >> (SLOT_BITS * g)) & mask) - SLOT_OFFSET for g in range(groups)]


def group_owner_sums(comm: Context, groups: list[str], codes: NDArray[np.int64],
                     params: GroupByParams) -> dict[str, GroupSums]:
    """Guest: send encrypted packed indicators of ``codes`` (group index per aligned row, into
    ``groups``), return each host's :class:`GroupSums` (every group, before suppression)."""
    g = len(groups)
    with warnings.catch_warnings():
        if params.allow_insecure_key:
            warnings.simplefilter("ignore", InsecureKeyWarning)
        pk, sk = generate_keypair(params.key_bits, allow_insecure=params.allow_insecure_key)
    if g > slot_capacity(pk):
        raise InputError("more groups than one key's plaintext holds", groups=g,
                         most=slot_capacity(pk))
    packed = np.empty(codes.size, dtype=object)
    packed[:] = [1 << (SLOT_BITS * int(c)) for c in codes]
    comm.send(comm.hosts, GROUP_INDICATORS, {"key": pk, "groups": g,
                                             "indicators": sk.encrypt_int(packed)})
    counts = np.bincount(codes, minlength=g).astype(np.int64)
    out: dict[str, GroupSums] = {}
    for host in comm.hosts:
        msg = comm.recv(host, GROUP_SUMS)
        enc = msg.get("sums") if isinstance(msg, dict) else None
        columns, ranges, epsilon = ((msg.get("columns"), msg.get("ranges"), msg.get("epsilon"))
                                    if isinstance(msg, dict) else (None, None, None))
        if (not isinstance(enc, EncryptedArray) or enc.public_key != pk
                or not isinstance(columns, list) or not isinstance(ranges, list)
                or len(ranges) != len(columns) or enc.shape != (len(columns),)
                or not isinstance(epsilon, float)):
            raise ProtocolError("malformed group sums", party=str(host))
        lows = np.array([float(r[0]) for r in ranges])
        raw = np.array([unpack(int(v), g) for v in sk.decrypt_int(enc)],
                       dtype=np.float64).reshape(len(columns), g).T
        sums = raw / 2.0 ** FRACTION_BITS + counts[:, None] * lows[None, :]
        out[str(host)] = GroupSums(list(groups), counts, [str(c) for c in columns], sums,
                                   {str(c): (float(r[0]), float(r[1]))
                                    for c, r in zip(columns, ranges, strict=True)}, epsilon)
    return out


def value_owner_sums(comm: Context, values: NDArray[np.float64], columns: list[str],
                     params: GroupByParams) -> None:
    """Host: clipped, noisy encrypted sums of ``values`` (aligned rows × ``columns``) per
    group of the guest's encrypted indicators (module docstring). Its own checks: every
    column has a declared range, at most ``max_groups`` groups, one indicator per row, sums
    that fit a slot."""
    missing = [c for c in columns if c not in params.value_ranges]
    if missing:
        raise InputError("declare a value range for every value column", columns=missing)
    msg = comm.recv(comm.guest, GROUP_INDICATORS)
    enc = msg.get("indicators") if isinstance(msg, dict) else None
    groups = msg.get("groups") if isinstance(msg, dict) else None
    if (not isinstance(enc, EncryptedArray) or not isinstance(msg.get("key"), PaillierPublicKey)
            or enc.public_key != msg["key"] or enc.ndim != 1 or enc.scale_bits != 0
            or not isinstance(groups, int) or not 1 <= groups <= slot_capacity(msg["key"])):
        raise ProtocolError("malformed group indicators")
    if enc.shape[0] != values.shape[0]:
        raise InputError("host rows are not aligned with the guest's (run psi first)",
                         guest=enc.shape[0], host=values.shape[0])
    if groups > params.max_groups:
        raise ProtocolError("more groups than this party aggregates in one run",
                            groups=groups, max_groups=params.max_groups)
    if np.isnan(values).any():
        raise InputError("value columns must have no missing values (impute first)")
    ranges = [params.value_ranges[c] for c in columns]
    lows = np.array([r[0] for r in ranges])
    highs = np.array([r[1] for r in ranges])
    if values.shape[0] * float((highs - lows).max(initial=0.0)) * 2.0 ** FRACTION_BITS \
            >= 2.0 ** (SLOT_BITS - 18):
        raise InputError("rows times the value range exceed what a group sum holds")
    clipped = np.clip(values, lows, highs) - lows
    scaled = np.rint(clipped * 2.0 ** FRACTION_BITS).astype(np.int64)
    sums = [enc.mul(scaled[:, j]).sum().reshape(1) for j in range(len(columns))]
    bound = 1 << (SLOT_BITS - 18)  # |noise| kept inside its slot (e^-2^60 away from binding)
    noise = np.empty(len(columns), dtype=object)
    for j in range(len(columns)):
        draws = laplace(float(highs[j] - lows[j]) / params.epsilon, groups)
        fixed = [max(-bound, min(bound, round(float(v) * 2.0 ** FRACTION_BITS)))
                 for v in draws]
        noise[j] = sum((SLOT_OFFSET + v) << (SLOT_BITS * k) for k, v in enumerate(fixed))
    noisy = (EncryptedArray.concatenate(sums) + noise).rerandomize()
    comm.send(comm.guest, GROUP_SUMS, {"columns": list(columns),
                                       "ranges": [[float(lo), float(hi)] for lo, hi in ranges],
                                       "epsilon": float(params.epsilon), "sums": noisy})
