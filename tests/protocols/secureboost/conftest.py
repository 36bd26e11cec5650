"""Fixtures for SecureBoost tests: hetero datasets and a one-call federated train/predict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coalition.core import Party
from coalition.protocols.secureboost import SecureBoostGuest, SecureBoostHost, SecureBoostParams
from coalition.testing import run_parties

G, H1, H2 = Party.guest(), Party.host("h1"), Party.host("h2")


@dataclass
class Hetero:
    """A FATE hetero dataset joined on id: guest columns, label, host columns."""

    y: np.ndarray
    Xg: np.ndarray
    Xh: np.ndarray

    def split(self, test_size: float, seed: int = 0) -> tuple[Hetero, Hetero]:
        from sklearn.model_selection import train_test_split

        idx = np.arange(self.y.size)
        strat = self.y if np.array_equal(self.y, np.rint(self.y)) and np.unique(self.y).size < 10 else None
        tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
        return (Hetero(self.y[tr], self.Xg[tr], self.Xh[tr]),
                Hetero(self.y[te], self.Xg[te], self.Xh[te]))


@pytest.fixture(scope="session")
def load_hetero(fate_data: Path) -> Callable[[str], Hetero]:
    cache: dict[str, Hetero] = {}

    def load(name: str) -> Hetero:
        if name not in cache:
            g = pd.read_csv(fate_data / f"{name}_guest.csv")
            h = pd.read_csv(fate_data / f"{name}_host.csv").set_index("id").loc[g["id"]]
            cache[name] = Hetero(g["y"].to_numpy(np.float64),
                                 g.drop(columns=["id", "y"]).to_numpy(np.float64),
                                 h.to_numpy(np.float64))
        return cache[name]

    return load


def _host_parties(n: int) -> list[Party]:
    return [Party.host(f"h{i + 1}") for i in range(n)]


class Federation:
    """Runs the guest and ``hosts`` hosts on the memory hub; host columns split between them."""

    def __init__(self, hosts: int = 2) -> None:
        self.hosts = hosts

    @staticmethod
    def params(**kw: Any) -> SecureBoostParams:
        base: dict[str, Any] = {"key_bits": 1024, "allow_insecure_key": True, "seed": 0}
        base.update(kw)
        return SecureBoostParams(**base)

    def fit(self, params: SecureBoostParams, train: Hetero, *, valid: Hetero | None = None,
            wrap: Any = None) -> dict[str, Any]:
        cols = np.array_split(np.arange(train.Xh.shape[1]), self.hosts)
        parties = _host_parties(self.hosts)
        roles: dict[Party, Callable[..., Any]] = {G: lambda c: SecureBoostGuest(params).fit(
            c, train.Xg, train.y, None if valid is None else valid.Xg,
            None if valid is None else valid.y)}
        for hp, cc in zip(parties, cols, strict=True):
            roles[hp] = self._host_fit(params, train.Xh[:, cc],
                                       None if valid is None else valid.Xh[:, cc])
        models = run_parties(roles, wrap=wrap, timeout=300)
        return {"guest": models[G], "hosts": [models[h] for h in parties], "cols": cols}

    @staticmethod
    def _host_fit(params: SecureBoostParams, X: np.ndarray,
                  Xv: np.ndarray | None) -> Callable[..., Any]:
        return lambda c: SecureBoostHost(params).fit(c, X, Xv)

    def predict(self, fitted: dict[str, Any], data: Hetero, *, wrap: Any = None,
                raw: bool = False) -> np.ndarray:
        guest = fitted["guest"]
        roles: dict[Party, Callable[..., Any]] = {
            G: lambda c: (guest.predict_raw if raw else guest.predict)(c, data.Xg)}
        for hp, model, cc in zip(_host_parties(len(fitted["hosts"])), fitted["hosts"],
                                 fitted["cols"], strict=True):
            roles[hp] = self._host_predict(model, data.Xh[:, cc])
        return run_parties(roles, wrap=wrap, timeout=300)[G]

    @staticmethod
    def _host_predict(model: SecureBoostHost, X: np.ndarray) -> Callable[..., Any]:
        return lambda c: model.predict(c, X)


@pytest.fixture
def fed() -> Federation:
    return Federation(hosts=2)


@pytest.fixture(scope="session")
def federation() -> type[Federation]:
    """The :class:`Federation` class, for tests that need another host count."""
    return Federation
