"""Helpers for the horizontal FL tests: data splits, role wiring, channel wrappers."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coalition.core import Channel, Context, Party
from coalition.protocols.horizontal import (
    HorizontalParams,
    LocalData,
    run_aggregator,
    run_client,
)
from coalition.protocols.horizontal.models import Model
from coalition.protocols.horizontal.strategies import Strategy
from coalition.testing import run_parties

AGG = Party.arbiter()


def client_parties(n: int) -> list[Party]:
    return [Party.host(f"c{i:02d}") for i in range(n)]


def load_fate(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    df = pd.read_csv(folder / name)
    return df.drop(columns=["id", "y"]).to_numpy(np.float64), df["y"].to_numpy(np.int64)


def iid_split(x: np.ndarray, y: np.ndarray, n: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    order = np.random.default_rng(seed).permutation(len(y))
    return [(x[idx], y[idx]) for idx in np.array_split(order, n)]


def run_federation(
    make_model: Callable[[], Model],
    datasets: Sequence[LocalData],
    params: HorizontalParams,
    strategy: Strategy,
    *,
    client_models: dict[int, Callable[[], Model]] | None = None,
    wrap: Callable[[Channel], Channel] | None = None,
    timeout: float = 30.0,
) -> dict[Party, Any]:
    """Aggregator plus one client per dataset on the in-memory hub."""
    parties = client_parties(len(datasets))
    models = client_models or {}

    def client(i: int) -> Callable[[Context], Any]:
        build = models.get(i, make_model)
        return lambda ctx: run_client(ctx, build(), datasets[i], params)

    roles: dict[Party, Callable[[Context], Any]] = {
        AGG: lambda ctx: run_aggregator(ctx, make_model(), strategy, params)}
    roles.update({p: client(i) for i, p in enumerate(parties)})
    return run_parties(roles, wrap=wrap, timeout=timeout)


class PerParty:
    """Wraps each party's channel with the wrapper chosen for it (or none)."""

    def __init__(self, wrappers: dict[Party, Callable[[Channel], Channel]],
                 outer: Callable[[Channel], Channel] | None = None) -> None:
        self.wrappers, self.outer = wrappers, outer

    def __call__(self, channel: Channel) -> Channel:
        inner = self.outer(channel) if self.outer else channel
        w = self.wrappers.get(channel.party)
        return w(inner) if w else inner


class _Filter:
    def __init__(self, inner: Channel, match: Callable[[str], bool], delay: float | None) -> None:
        self._inner, self._match, self._delay = inner, match, delay

    @property
    def party(self) -> Party:
        return self._inner.party

    @property
    def parties(self) -> Sequence[Party]:
        return self._inner.parties

    def send(self, to: Party, key: str, payload: bytes) -> None:
        if self._match(key):
            if self._delay is None:
                return  # the message is lost: the client dropped out at this point
            time.sleep(self._delay)
        self._inner.send(to, key, payload)

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        return self._inner.recv(frm, key, timeout)


def drop_sends(suffix: str) -> Callable[[Channel], Channel]:
    """Loses every message whose key ends with ``suffix`` (a client dropping out there)."""
    return lambda ch: _Filter(ch, lambda k: k.endswith(suffix), None)


def delay_sends(suffix: str, seconds: float) -> Callable[[Channel], Channel]:
    """Delivers messages whose key ends with ``suffix`` only after ``seconds`` (a straggler)."""
    return lambda ch: _Filter(ch, lambda k: k.endswith(suffix), seconds)
