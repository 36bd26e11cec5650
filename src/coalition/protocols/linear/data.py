"""Vertical data handling: one party's aligned table, local standardisation, alignment check.

Rows are assumed already aligned by PSI (every party holds the same ID set); each party sorts
its rows by ID, so the i-th row means the same entity everywhere. Parties then compare a digest
of their sorted ID list (:func:`ids_digest`: SHA-256, or SM3 under the ``sm`` crypto suite):
after PSI the intersection is common knowledge, so the digest reveals nothing new, and a
misaligned input fails before training.

Standardisation is fitted locally by each party on its own columns and kept in its model part:
no statistics cross the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from coalition.core.errors import InputError
from coalition.crypto.suite import CryptoSuite, primitives
from coalition.protocols.psi.canonical import Canonicaliser

__all__ = ["CANONICAL_IDS", "PartyTable", "Standardizer", "design", "guest_labels", "ids_digest", "load_party_csv"]

FloatArray = NDArray[np.float64]


#: The one canonical ID form of vertical models: PSI's default pipeline
#: (:class:`~coalition.protocols.psi.canonical.Canonicaliser`), so alignment compares what PSI
#: matched, not the raw strings.
CANONICAL_IDS = Canonicaliser()


@dataclass(frozen=True)
class PartyTable:
    """One party's rows, sorted by ID: features and, for the guest, labels."""

    ids: list[str]
    features: FloatArray
    feature_names: list[str]
    labels: FloatArray | None = None
    #: Poisson only, the guest's: exposure per row (> 0); the model predicts rates.
    exposure: FloatArray | None = None

    def __post_init__(self) -> None:
        if self.features.ndim != 2 or self.features.shape[0] != len(self.ids):
            raise InputError("features must be a 2-D array with one row per id",
                             rows=self.features.shape[0], ids=len(self.ids))
        if self.features.shape[1] != len(self.feature_names):
            raise InputError("one feature name per column required")
        if not np.all(np.isfinite(self.features)):
            raise InputError("features contain NaN or infinity")
        if self.labels is not None and (self.labels.shape != (len(self.ids),)
                                        or not np.all(np.isfinite(self.labels))):
            raise InputError("labels must be finite, one per row")
        if len(set(self.ids)) != len(self.ids):
            raise InputError("duplicate ids")
        if self.exposure is not None and (self.exposure.shape != (len(self.ids),)
                                          or not np.all(np.isfinite(self.exposure))
                                          or not np.all(self.exposure > 0)):
            raise InputError("exposures must be positive and finite, one per row")

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.ids)

    @classmethod
    def from_arrays(cls, ids: list[Any], features: Any, labels: Any = None,
                    feature_names: list[str] | None = None,
                    exposure: Any = None) -> PartyTable:
        """Build from arrays; IDs take PSI's canonical form (:data:`CANONICAL_IDS`: NFKC,
        trimmed, lower case) and rows are sorted by it, so padded or differently-cased IDs
        that PSI matched line up here too."""
        id_strs = CANONICAL_IDS.many(ids)
        order = sorted(range(len(id_strs)), key=id_strs.__getitem__)
        x = np.asarray(features, dtype=np.float64)
        names = feature_names or [f"x{i}" for i in range(x.shape[1] if x.ndim == 2 else 0)]
        y = None if labels is None else np.asarray(labels, dtype=np.float64)[order]
        e = None if exposure is None else np.asarray(exposure, dtype=np.float64)[order]
        return cls([id_strs[i] for i in order], x[order], names, y, e)


def load_party_csv(path: str | Path, *, id_column: str = "id",
                   label_column: str | None = None) -> PartyTable:
    """Read a party's CSV (``id``, optional label, numeric features), sorted by ID."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError("cannot read CSV", path=str(path), reason=str(exc)) from exc
    if id_column not in frame.columns:
        raise InputError("id column missing", column=id_column, path=str(path))
    if label_column is not None and label_column not in frame.columns:
        raise InputError("label column missing", column=label_column, path=str(path))
    names = [c for c in frame.columns if c not in (id_column, label_column)]
    try:
        x = frame[names].to_numpy(dtype=np.float64)
        y = None if label_column is None else frame[label_column].to_numpy(dtype=np.float64)
    except ValueError as exc:
        raise InputError("non-numeric feature or label", path=str(path)) from exc
    return PartyTable.from_arrays(frame[id_column].tolist(), x, y, names)


def ids_digest(ids: list[str], suite: CryptoSuite | str = CryptoSuite.STANDARD) -> bytes:
    """The suite's hash (SHA-256 under ``standard``, SM3 under ``sm``) over the IDs in the given
    order, each prefixed with its 4-byte big-endian UTF-8 length (equal iff the lists are
    equal; sort first to compare sets). Every party of a job passes the job's suite, so the
    digests compare; under ``standard`` the bytes are those of every earlier release."""
    parts = []
    for i in ids:
        raw = i.encode()
        parts.append(len(raw).to_bytes(4, "big"))
        parts.append(raw)
    return primitives(suite).hash(b"".join(parts))


@dataclass
class Standardizer:
    """Per-column z-scoring fitted on the owner's rows; constant columns are left centred.

    With ``clip`` set, standardised values are clipped to ``[-clip, clip]`` (winsorised at
    ``clip`` standard deviations), at training and at prediction alike. That bounds every
    encoded feature (so the fixed-point ring of ``protocol: ss`` cannot wrap under the bounds in
    ``docs/linear.md``) and keeps heavy-tailed columns from pushing scores far outside the range
    where a polynomial sigmoid is accurate.
    """

    mean_: FloatArray | None = None
    scale_: FloatArray | None = None
    clip: float | None = None

    def fit(self, x: FloatArray) -> Standardizer:
        """Learn column means and standard deviations."""
        self.mean_ = x.mean(axis=0)
        std = x.std(axis=0)
        self.scale_ = np.where(std > 1e-12, std, 1.0)
        return self

    def transform(self, x: FloatArray) -> FloatArray:
        """Apply the fitted scaling."""
        if self.mean_ is None or self.scale_ is None:
            raise InputError("standardizer used before fit")
        if x.shape[1] != self.mean_.shape[0]:
            raise InputError("column count differs from the fitted data",
                             expected=self.mean_.shape[0], got=x.shape[1])
        out: FloatArray = (x - self.mean_) / self.scale_
        if self.clip is not None:
            out = np.clip(out, -self.clip, self.clip)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-value form for artifacts (``clip`` only when set: older parts stay readable)."""
        if self.mean_ is None or self.scale_ is None:
            return {}
        out: dict[str, Any] = {"mean": self.mean_.tolist(), "scale": self.scale_.tolist()}
        if self.clip is not None:
            out["clip"] = self.clip
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Standardizer:
        """Inverse of :meth:`to_dict`."""
        if not raw:
            return cls()
        clip = raw.get("clip")
        return cls(np.asarray(raw["mean"], dtype=np.float64),
                   np.asarray(raw["scale"], dtype=np.float64),
                   None if clip is None else float(clip))


def guest_labels(table: PartyTable, task: str) -> FloatArray:
    """The guest's labels, checked for the task (0/1 for logistic regression)."""
    if table.labels is None:
        raise InputError("the guest's table needs a label column")
    y = table.labels
    if task == "logistic" and not np.all((y == 0) | (y == 1)):
        raise InputError("logistic regression needs 0/1 labels")
    if task == "poisson" and np.any(y < 0):
        raise InputError("poisson regression needs non-negative counts")
    return y


def design(table: PartyTable, fit_intercept: bool, clip: float | None = None
           ) -> tuple[Standardizer, FloatArray]:
    """Fit the local scaler (clipping at ``clip`` standard deviations if set); return it with
    the standardised features (+ a ones column)."""
    scaler = Standardizer(clip=clip).fit(table.features)
    x = scaler.transform(table.features)
    if fit_intercept:
        x = np.hstack([x, np.ones((x.shape[0], 1))])
    return scaler, x
