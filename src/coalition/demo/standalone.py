"""The standalone credit-risk pipeline behind ``coalition demo``.

A bank (guest: labels + its own features) and a telco (host: its own features) share part of
their customers. In one process, on the in-memory hub, with the same role code the network
transport runs:

1. **PSI** (KKRT16 OT-extension, the default for two parties) aligns the shared customers; each side learns only the
   intersection;
2. both sides split the aligned rows into train/test with a seed they agree on;
3. **SS-LR**: vertical logistic regression over additive secret shares, the arbiter as the
   Beaver-triple dealer;
4. **SecureBoost**: vertical gradient boosting with homomorphically encrypted gradients (OU);
5. **evaluation** on the test rows at the bank (AUC, KS), next to a bank-only model to show
   what federating adds.

Honest label: this is the standalone mode (one process). The multi-node version of the same
pipeline comes with the jobs issue.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from coalition.core.context import Context
from coalition.core.ids import Party
from coalition.engine.local import run_local
from coalition.engine.synthetic import make_credit_scenario
from coalition.protocols.evaluate import binary_report
from coalition.protocols.linear import LinearModelPart, PartyTable, SSDealer, SSGuest, SSHost
from coalition.protocols.linear.predict import predict_guest, predict_host
from coalition.protocols.psi import PsiResult, run_guest, run_host
from coalition.protocols.secureboost import SecureBoostGuest, SecureBoostHost, SecureBoostParams

__all__ = ["DemoConfig", "DemoResult", "run_credit_demo"]

BANK, TELCO, ARBITER = Party.guest("bank"), Party.host("telco"), Party.arbiter("coordinator")
Step = Callable[[str, str], None]


@dataclass(frozen=True)
class DemoConfig:
    """Sizes and model settings of the demo."""

    n_bank: int = 4000
    n_telco: int = 5000
    n_shared: int = 3000
    seed: int = 7
    test_fraction: float = 0.3
    trees: int = 5
    key_bits: int = 2048
    suite: str = "standard"  # crypto suite of PSI and SS-LR: standard or sm (SM2/SM3/SM4)


@dataclass(frozen=True)
class _Split:
    """Aligned train/test tables of both parties (each party only ever holds its own)."""

    g_train: PartyTable
    h_train: PartyTable
    g_test: PartyTable
    h_test: PartyTable
    y_test: np.ndarray[Any, Any]


@dataclass
class DemoResult:
    """What the demo found, for the summary table."""

    bank_rows: int
    telco_rows: int
    intersection: int
    true_overlap: int
    models: dict[str, dict[str, float]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _table(frame: pd.DataFrame, ids: list[str], label: str | None) -> PartyTable:
    feats = frame.drop(columns=["phone", *([label] if label else [])])
    return PartyTable.from_arrays(ids, feats.to_numpy(np.float64),
                                  None if label is None else frame[label].to_numpy(np.float64),
                                  list(feats.columns))


def _aligned(frame: pd.DataFrame, psi: PsiResult) -> pd.DataFrame:
    if psi.indices is None:
        raise RuntimeError("this party did not learn the intersection")
    return frame.iloc[psi.indices].reset_index(drop=True)


def _split(n: int, fraction: float, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    # Both parties derive the same split from the agreed seed and the aligned order.
    order = np.random.default_rng(seed).permutation(n)
    cut = round(n * (1 - fraction))
    return np.sort(order[:cut]), np.sort(order[cut:])


def run_credit_demo(config: DemoConfig | None = None, on_step: Step | None = None) -> DemoResult:
    """Run the pipeline; ``on_step(stage, message)`` reports progress."""
    cfg = config or DemoConfig()
    say: Step = on_step or (lambda _s, _m: None)
    scenario = make_credit_scenario(cfg.n_bank, cfg.n_telco, cfg.n_shared, cfg.seed)
    bank, telco = scenario.bank, scenario.telco
    result = DemoResult(len(bank), len(telco), 0, scenario.overlap)
    say("data", f"bank: {len(bank):,} customers with labels; telco: {len(telco):,} subscribers")

    t0 = time.perf_counter()
    psi_params = {"suite": cfg.suite}
    psi = run_local({BANK: lambda ctx: run_guest(ctx, bank["phone"].tolist(), psi_params),
                     TELCO: lambda ctx: run_host(ctx, telco["phone"].tolist(), psi_params)})
    result.timings["psi"] = time.perf_counter() - t0
    result.intersection = psi[BANK].size
    say("psi", f"{psi[BANK].summary.protocol.upper()}-PSI found {psi[BANK].size:,} shared customers "
               f"in {result.timings['psi']:.1f} s")

    bank_al, telco_al = _aligned(bank, psi[BANK]), _aligned(telco, psi[TELCO])
    train, test = _split(len(bank_al), cfg.test_fraction, cfg.seed)
    ids = bank_al["phone"].tolist()
    data = _Split(
        g_train=_table(bank_al.iloc[train], [ids[i] for i in train], "default"),
        g_test=_table(bank_al.iloc[test], [ids[i] for i in test], "default"),
        h_train=_table(telco_al.iloc[train], [ids[i] for i in train], None),
        h_test=_table(telco_al.iloc[test], [ids[i] for i in test], None),
        y_test=bank_al["default"].to_numpy()[test],
    )
    result.models["SS-LR (bank+telco)"] = _ss_lr(data, result, say, cfg.suite)
    result.models["SecureBoost (bank+telco)"] = _secureboost(cfg, data, result, say)
    # What the bank could do alone, trained locally on its own columns.
    local = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    local.fit(data.g_train.features, data.g_train.labels)
    scores = local.predict_proba(data.g_test.features)[:, 1]
    rep = binary_report(data.y_test, scores)
    result.models["bank alone (local LR)"] = {"auc": rep.auc, "ks": rep.ks}
    return result


def _ss_lr(d: _Split, result: DemoResult, say: Step, suite: str) -> dict[str, float]:
    params = {"optimizer": "momentum", "epochs": 10, "batch_size": 256, "learning_rate": 0.15,
              "suite": suite}
    say("ss-lr", "training secret-shared logistic regression (arbiter deals Beaver triples)")
    t0 = time.perf_counter()
    fit = run_local({
        BANK: lambda ctx: SSGuest(params).fit(ctx, d.g_train).model_,
        TELCO: lambda ctx: SSHost(params).fit(ctx, d.h_train).model_,
        ARBITER: lambda ctx: SSDealer(params).fit(ctx),
    })
    result.timings["ss-lr"] = time.perf_counter() - t0
    g_model: LinearModelPart = fit[BANK]
    h_model: LinearModelPart = fit[TELCO]
    scored = run_local({BANK: lambda ctx: predict_guest(ctx, g_model, d.g_test),
                        TELCO: lambda ctx: predict_host(ctx, h_model, d.h_test)})
    rep = binary_report(d.y_test, scored[BANK])
    say("ss-lr", f"trained in {result.timings['ss-lr']:.1f} s: test AUC {rep.auc:.3f}, "
                 f"KS {rep.ks:.3f}")
    return {"auc": rep.auc, "ks": rep.ks}


def _secureboost(cfg: DemoConfig, d: _Split, result: DemoResult, say: Step
                 ) -> dict[str, float]:
    params = SecureBoostParams(num_trees=cfg.trees, max_depth=3, learning_rate=0.3,
                               key_bits=cfg.key_bits,
                               allow_insecure_key=cfg.key_bits < 2048, suite=cfg.suite)
    say("secureboost", f"training SecureBoost, {cfg.trees} trees, {params.he_scheme.upper()}-{cfg.key_bits}")
    t0 = time.perf_counter()
    labels = d.g_train.labels if d.g_train.labels is not None else np.zeros(0)
    fit = run_local({
        BANK: partial(_sb_guest_fit, params, d.g_train.features, labels),
        TELCO: partial(_sb_host_fit, params, d.h_train.features),
    }, timeout=600)
    result.timings["secureboost"] = time.perf_counter() - t0
    guest: SecureBoostGuest = fit[BANK]
    host: SecureBoostHost = fit[TELCO]
    scored = run_local({BANK: lambda ctx: guest.predict(ctx, d.g_test.features),
                        TELCO: lambda ctx: host.predict(ctx, d.h_test.features)})
    rep = binary_report(d.y_test, scored[BANK])
    say("secureboost", f"trained in {result.timings['secureboost']:.1f} s "
                       f"({result.timings['secureboost'] / cfg.trees:.2f} s/tree): "
                       f"test AUC {rep.auc:.3f}, KS {rep.ks:.3f}")
    return {"auc": rep.auc, "ks": rep.ks}


def _sb_guest_fit(params: SecureBoostParams, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any],
                  ctx: Context) -> SecureBoostGuest:
    return SecureBoostGuest(params).fit(ctx, x, y)


def _sb_host_fit(params: SecureBoostParams, x: np.ndarray[Any, Any],
                 ctx: Context) -> SecureBoostHost:
    return SecureBoostHost(params).fit(ctx, x)
