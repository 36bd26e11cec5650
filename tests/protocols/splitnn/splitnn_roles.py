"""Shared helpers of the split-learning tests: FATE's hetero tables and one-call train/predict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from coalition.core import Party
from coalition.protocols.splitnn import (
    HeteroNNParams,
    SplitNNDealer,
    SplitNNGuest,
    SplitNNHost,
)
from coalition.testing import run_parties

G, H, A = Party.guest(), Party.host("h1"), Party.arbiter()


@dataclass
class Split:
    """Joined rows of a vertical table: guest features, host features, labels."""

    xg: np.ndarray
    xh: np.ndarray
    y: np.ndarray

    def take(self, idx: np.ndarray) -> Split:
        return Split(self.xg[idx], self.xh[idx], self.y[idx])

    def split(self, test_size: float = 0.3, seed: int = 0) -> tuple[Split, Split]:
        idx = np.arange(self.y.size)
        strat = self.y if set(np.unique(self.y)) <= {0.0, 1.0} else None
        tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
        return self.take(tr), self.take(te)


def load(fate_data: Path, name: str) -> Split:
    """FATE's ``<name>_hetero_guest/_host`` joined on id (guest order)."""
    g = pd.read_csv(fate_data / f"{name}_hetero_guest.csv")
    h = pd.read_csv(fate_data / f"{name}_hetero_host.csv").set_index("id").loc[g["id"]]
    return Split(g.drop(columns=["id", "y"]).to_numpy(np.float64), h.to_numpy(np.float64),
                 g["y"].to_numpy(np.float64))


def fit(params: HeteroNNParams, data: Split, *, wrap: Any = None,
        host: type[SplitNNHost] = SplitNNHost) -> dict[Party, Any]:
    """Train guest, host and dealer on the memory hub; each party's fitted role."""
    roles: dict[Party, Callable[..., Any]] = {
        G: lambda c: SplitNNGuest(params).fit(c, data.xg, data.y),
        H: lambda c: host(params).fit(c, data.xh),
        A: lambda c: SplitNNDealer(params).fit(c)}
    return run_parties(roles, wrap=wrap, timeout=300)


def predict(models: dict[Party, Any], data: Split, *, wrap: Any = None) -> np.ndarray:
    """The guest's predictions for ``data`` (the host takes part; no dealer)."""
    roles: dict[Party, Callable[..., Any]] = {
        G: lambda c: models[G].predict(c, data.xg),
        H: lambda c: models[H].predict(c, data.xh)}
    out: np.ndarray = run_parties(roles, wrap=wrap, timeout=300)[G]
    return out
