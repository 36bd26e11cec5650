"""Mask expansion for SecAgg: the ChaCha20 PRG of :mod:`coalition.crypto.prg` (moved there so
the secret-shared linear model and ``data_split`` share one audited construction)."""

from __future__ import annotations

from coalition.crypto.prg import expand

__all__ = ["expand"]
