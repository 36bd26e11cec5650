"""Shamir secret sharing over the prime field GF(2^521 − 1) (Shamir, CACM 1979).

The Mersenne prime 2^521 − 1 exceeds every 32-byte secret shared here (X25519 private keys and
PRG seeds). Coefficients come from :mod:`secrets`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping

from coalition.core import ConfigError, CryptoError

__all__ = ["PRIME", "combine", "split"]

PRIME = 2**521 - 1


def split(secret: int, xs: Iterable[int], threshold: int) -> dict[int, int]:
    """Shares ``{x: f(x)}`` of ``secret`` for a random polynomial of degree ``threshold − 1``."""
    points = list(xs)
    if not 0 <= secret < PRIME:
        raise ConfigError("secret must lie in the field")
    if len(set(points)) != len(points) or any(not 0 < x < PRIME for x in points):
        raise ConfigError("share points must be distinct and non-zero")
    if not 1 <= threshold <= len(points):
        raise ConfigError("threshold must be between 1 and the number of shares",
                          threshold=threshold, shares=len(points))
    coeffs = [secret] + [secrets.randbelow(PRIME) for _ in range(threshold - 1)]
    out = {}
    for x in points:
        acc = 0
        for c in reversed(coeffs):  # Horner
            acc = (acc * x + c) % PRIME
        out[x] = acc
    return out


def combine(shares: Mapping[int, int], threshold: int) -> int:
    """The secret from at least ``threshold`` shares (Lagrange interpolation at 0)."""
    if len(shares) < threshold:
        raise CryptoError("not enough shares to reconstruct", have=len(shares), need=threshold)
    pts = sorted(shares.items())[:threshold]
    secret = 0
    for i, (xi, yi) in enumerate(pts):
        num, den = 1, 1
        for j, (xj, _) in enumerate(pts):
            if i != j:
                num = num * (-xj) % PRIME
                den = den * (xi - xj) % PRIME
        if den == 0:
            raise CryptoError("duplicate share points")
        secret = (secret + yi * num * pow(den, -1, PRIME)) % PRIME
    return secret
