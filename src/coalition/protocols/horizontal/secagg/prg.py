"""Mask expansion for SecAgg: the suite's PRG of :mod:`coalition.crypto.prg` (ChaCha20 under
``standard``, SM4-CTR under ``sm``), moved there so the secret-shared linear model, ``data_split``
and ``feature_sample`` share one audited construction."""

from __future__ import annotations

from coalition.crypto.prg import expand, expand_for

__all__ = ["expand", "expand_for"]
