"""Module-level (picklable) role functions shared by the linear-model tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from coalition.core import Context
from coalition.protocols.linear import (
    LinearModelPart,
    PartyTable,
    SSDealer,
    SSGuest,
    SSHost,
    load_party_csv,
)
from coalition.protocols.linear.predict import predict_guest, predict_host


def load(data: Path, name: str, *, host_splits: int = 1) -> tuple[PartyTable, list[PartyTable]]:
    """Guest table and ``host_splits`` host tables (host columns split evenly)."""
    guest = load_party_csv(data / f"{name}_hetero_guest.csv", label_column="y")
    host = load_party_csv(data / f"{name}_hetero_host.csv")
    parts = np.array_split(np.arange(host.features.shape[1]), host_splits)
    hosts = [PartyTable(host.ids, host.features[:, cols],
                        [host.feature_names[c] for c in cols]) for cols in parts]
    return guest, hosts


def joint_table(guest: PartyTable, hosts: list[PartyTable]) -> np.ndarray:
    return np.hstack([guest.features, *[h.features for h in hosts]])


def ss_guest(ctx: Context, params: dict[str, Any], table: PartyTable) -> dict[str, Any]:
    est = SSGuest(params).fit(ctx, table)
    return est.model_.to_artifact()


def ss_host(ctx: Context, params: dict[str, Any], table: PartyTable) -> dict[str, Any]:
    return SSHost(params).fit(ctx, table).model_.to_artifact()


def ss_dealer(ctx: Context, params: dict[str, Any]) -> None:
    SSDealer(params).fit(ctx)


def idle(ctx: Context) -> None:
    """A party that never speaks."""


def pred_guest(ctx: Context, model: dict[str, Any], table: PartyTable) -> np.ndarray:
    return predict_guest(ctx, LinearModelPart.from_artifact(model), table)


def pred_host(ctx: Context, model: dict[str, Any], table: PartyTable) -> None:
    predict_host(ctx, LinearModelPart.from_artifact(model), table)


def he_guest(ctx: Context, params: dict[str, Any], table: PartyTable) -> dict[str, Any]:
    from coalition.protocols.linear.he.guest import HEGuest
    return HEGuest(params).fit(ctx, table).model_.to_artifact()


def he_host(ctx: Context, params: dict[str, Any], table: PartyTable) -> dict[str, Any]:
    from coalition.protocols.linear.he.host import HEHost
    return HEHost(params).fit(ctx, table).model_.to_artifact()


def he_arbiter(ctx: Context, params: dict[str, Any]) -> None:
    from coalition.protocols.linear.he.arbiter import HEArbiter
    HEArbiter(params).fit(ctx)
