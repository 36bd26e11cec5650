"""Horizontal FL benchmark: FedAvg, 10 clients, 5 rounds, scikit-learn digits, a 9,010-parameter
MLP (64→120→10), over the in-memory hub and over gRPC processes, plain and with SecAgg.

Reports per-round wall time (start-up excluded), start-up time, peak memory of the whole process
tree (summed RSS, which counts shared libraries once per process, and summed PSS, which splits
them), and accuracy per round; SecAgg overhead = SecAgg round time / plain round time. The
gRPC tree is the launching harness plus one process per party (11); Flower's is its
simulation process plus its Ray workers.

Anchor: Flower 1.42 simulation running the identical workload (same data split, same numpy MLP,
same local epochs/batch/lr), measured in the same run when a Python with ``flwr[simulation]``
is given (``--flwr-python PATH`` or ``COALITION_BENCH_FLWR_PYTHON``; keep it out of the project
venv, e.g. ``python3 -m venv /tmp/flwr-venv && /tmp/flwr-venv/bin/pip install 'flwr[simulation]'
scikit-learn``). Otherwise the recorded figures of ../shared/BENCHMARKS.md are printed as the
anchor (``ratio`` null).

    .venv/bin/python benchmarks/horizontal.py [--quick] [--flwr-python /tmp/flwr-venv/bin/python]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

N_CLIENTS, ROUNDS, HIDDEN, EPOCHS, BATCH, LR, SEED = 10, 5, 120, 1, 32, 0.1, 0
NEIGHBOURS = 4  # SecAgg+ graph degree: each client shares with itself + 4 others, threshold 3
RECORDED = {"round_s": (0.23, 0.42), "startup_s": (17.0, 34.0), "rss_mb": 2100.0,
            "secagg_factor": (1.8, 2.7)}


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits, read from the CSV it ships without importing scikit-learn (whose
    import pulls scipy, pandas and pyarrow into the launching process: ~150 MB of RSS that
    would be charged to whichever framework is measured). Same arrays as ``load_digits``."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # locates the package, does not import it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the benchmark data comes from scikit-learn's digits; install it")
    root = next(iter(spec.submodule_search_locations))
    path = Path(root) / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(path, "rt") as fh:
        data = np.loadtxt(fh, delimiter=",")
    return data[:, :-1], data[:, -1].astype(np.int64)


def client_splits() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """IID split of digits into 10 clients, each holding 80 % train / 20 % validation."""
    x, y = load_digits()
    x = x / 16.0
    order = np.random.default_rng(SEED).permutation(len(y))
    out = []
    for idx in np.array_split(order, N_CLIENTS):
        cut = int(0.8 * len(idx))
        out.append((x[idx[:cut]], y[idx[:cut]], x[idx[cut:]], y[idx[cut:]]))
    return out


class TreeRSS:
    """Samples the memory of this process and all its descendants: summed RSS every 20 ms
    (shared library pages count once per process) and summed PSS every 200 ms (shared pages
    split between the processes mapping them: the tree's real footprint). ``peak_children``:
    the summed RSS of the descendants only (the parties, without the launching harness)."""

    def __init__(self, root_pid: int | None = None) -> None:
        import psutil

        self._psutil = psutil
        self.root = psutil.Process(root_pid or os.getpid())
        self.peak = self.peak_children = self.peak_pss = 0.0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, pss: bool) -> None:
        try:
            kids = self.root.children(recursive=True)
        except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
            return
        total = children = proportional = 0
        for p in [self.root, *kids]:
            try:
                rss = p.memory_info().rss
                proportional += p.memory_full_info().pss if pss else 0
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                continue
            total += rss
            children += rss if p is not self.root else 0
        self.peak = max(self.peak, total / 2**20)
        self.peak_children = max(self.peak_children, children / 2**20)
        self.peak_pss = max(self.peak_pss, proportional / 2**20)
        self.processes = max(self.processes, 1 + len(kids))

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            self._sample(pss=tick % 10 == 0)
            tick += 1
            self._stop.wait(0.02)

    def __enter__(self) -> TreeRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(pss=True)


# --- Coalition side -------------------------------------------------------------------------

def _params(secagg: bool) -> Any:
    from coalition.protocols.horizontal import HorizontalParams, SecAggConfig

    return HorizontalParams(rounds=ROUNDS, local_epochs=EPOCHS, batch_size=BATCH,
                            learning_rate=LR, seed=SEED, client_timeout=120.0,
                            secagg=SecAggConfig(neighbours=NEIGHBOURS) if secagg else None)


def _model() -> Any:
    from coalition.protocols.horizontal.models import MLP

    return MLP(64, 10, hidden=(HIDDEN,), seed=SEED)


def aggregator_role(ctx: Any, secagg: bool) -> dict[str, Any]:
    """Runs the aggregator and returns the model history with wall-clock round boundaries."""
    from coalition.core import MemoryMetrics
    from coalition.protocols.horizontal import run_aggregator
    from coalition.protocols.horizontal.strategies import FedAvg

    sink = MemoryMetrics()
    ctx.metrics = sink
    ready = time.time()
    model = run_aggregator(ctx, _model(), FedAvg(), _params(secagg))
    ends = [p.time for p in sink.points if p.name == "participants"]
    acc = [h.metrics.get("accuracy") for h in model.history[1:]] + [model.metrics.get("accuracy")]
    return {"ready": ready, "round_ends": ends, "accuracy": acc,
            "participants": [len(h.participants) for h in model.history]}


def client_role(ctx: Any, data: Any, secagg: bool) -> int:
    """One client: trains on its split every round."""
    from coalition.protocols.horizontal import run_client

    return int(run_client(ctx, _model(), data, _params(secagg)).rounds_trained)


def run_coalition(transport: str, secagg: bool) -> dict[str, Any]:
    """One federation; start-up = launch → aggregator ready; rounds from the aggregator's clock."""
    from coalition.core import Party
    from coalition.protocols.horizontal import LocalData
    from coalition.testing import run_parties

    splits = client_splits()
    agg = Party.arbiter()
    roles: dict[Any, Any] = {agg: functools.partial(aggregator_role, secagg=secagg)}
    for i, (xt, yt, xv, yv) in enumerate(splits):
        roles[Party.host(f"c{i:02d}")] = functools.partial(
            client_role, data=LocalData(xt, yt, xv, yv), secagg=secagg)
    with TreeRSS() as rss:
        launch = time.time()
        out = run_parties(roles, timeout=300.0, transport=transport)  # type: ignore[arg-type]
    res = out[agg]
    bounds = [res["ready"], *res["round_ends"]]
    rounds = [b - a for a, b in itertools.pairwise(bounds)]
    return {"startup_s": res["ready"] - launch, "round_s": rounds, "accuracy": res["accuracy"],
            "rss_mb": rss.peak, "pss_mb": rss.peak_pss, "parties_rss_mb": rss.peak_children,
            "processes": rss.processes, "participants": res["participants"]}


# --- Flower side (runs inside the flwr venv: numpy, scikit-learn and flwr only) -------------

def _np_mlp_init(rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.normal(0, np.sqrt(2 / 64), (64, HIDDEN)), np.zeros(HIDDEN),
            rng.normal(0, np.sqrt(2 / HIDDEN), (HIDDEN, 10)), np.zeros(10)]


def _np_mlp_logits(w: list[np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = np.maximum(x @ w[0] + w[1], 0.0)
    return h @ w[2] + w[3], h


def _np_mlp_train(w: list[np.ndarray], x: np.ndarray, y: np.ndarray,
                  rng: np.random.Generator) -> None:
    """The same minibatch SGD as Coalition's MLP (1 epoch, batch 32, lr 0.1)."""
    for _ in range(EPOCHS):
        order = rng.permutation(len(y))
        for s in range(0, len(y), BATCH):
            idx = order[s:s + BATCH]
            logits, h = _np_mlp_logits(w, x[idx])
            z = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1.0
            d = p / len(idx)
            g2, g3 = h.T @ d, d.sum(axis=0)
            dh = (d @ w[2].T) * (h > 0)
            g0, g1 = x[idx].T @ dh, dh.sum(axis=0)
            for wi, gi in zip(w, (g0, g1, g2, g3), strict=True):
                np.subtract(wi, LR * gi, out=wi)


def flower_worker(secagg: bool, timing_file: str) -> None:
    """Flower 1.42 simulation of the identical workload; writes round boundaries to a file."""
    import flwr
    from flwr.client import ClientApp, NumPyClient
    from flwr.server import LegacyContext, ServerApp, ServerAppComponents, ServerConfig
    from flwr.server.strategy import FedAvg
    from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
    from flwr.simulation import run_simulation

    splits = client_splits()
    marks: dict[str, Any] = {"launch": time.time(), "fit_start": {}, "round_end": {}, "acc": {}}

    class Client(NumPyClient):  # type: ignore[misc]
        def __init__(self, cid: int) -> None:
            self.cid = cid

        def fit(self, parameters, config):  # type: ignore[no-untyped-def]
            xt, yt, _, _ = splits[self.cid]
            w = [np.array(p, dtype=np.float64) for p in parameters]
            _np_mlp_train(w, xt, yt, np.random.default_rng([SEED, self.cid]))
            return w, len(yt), {}

        def evaluate(self, parameters, config):  # type: ignore[no-untyped-def]
            _, _, xv, yv = splits[self.cid]
            logits, _ = _np_mlp_logits(parameters, xv)
            acc = float(np.mean(logits.argmax(axis=1) == yv))
            return 0.0, len(yv), {"accuracy": acc}

    def client_fn(context: Any) -> Any:
        return Client(int(context.node_config["partition-id"])).to_client()

    def weighted_acc(metrics: list[tuple[int, dict[str, float]]]) -> dict[str, float]:
        n = sum(k for k, _ in metrics)
        return {"accuracy": sum(k * m["accuracy"] for k, m in metrics) / n}

    class Timed(FedAvg):  # type: ignore[misc]
        def configure_fit(self, server_round, parameters, client_manager):  # type: ignore[no-untyped-def]
            marks["fit_start"][server_round] = time.time()
            return super().configure_fit(server_round, parameters, client_manager)

        def aggregate_evaluate(self, server_round, results, failures):  # type: ignore[no-untyped-def]
            out = super().aggregate_evaluate(server_round, results, failures)
            marks["round_end"][server_round] = time.time()
            marks["acc"][server_round] = out[1].get("accuracy")
            with open(timing_file, "w") as fh:
                json.dump(marks, fh)
            return out

    init = flwr.common.ndarrays_to_parameters(_np_mlp_init(np.random.default_rng(SEED)))
    strategy = Timed(fraction_fit=1.0, fraction_evaluate=1.0, min_fit_clients=N_CLIENTS,
                     min_evaluate_clients=N_CLIENTS, min_available_clients=N_CLIENTS,
                     initial_parameters=init, evaluate_metrics_aggregation_fn=weighted_acc)
    if secagg:
        from flwr.client.mod import secaggplus_mod

        server = ServerApp()

        @server.main()  # type: ignore[misc]
        def main(grid: Any, context: Any) -> None:
            ctx = LegacyContext(context=context, config=ServerConfig(num_rounds=ROUNDS),
                                strategy=strategy)
            workflow = DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(
                num_shares=NEIGHBOURS + 1, reconstruction_threshold=(NEIGHBOURS + 1) // 2 + 1))
            workflow(grid, ctx)

        client = ClientApp(client_fn=client_fn, mods=[secaggplus_mod])
    else:
        server = ServerApp(server_fn=lambda ctx: ServerAppComponents(
            strategy=strategy, config=ServerConfig(num_rounds=ROUNDS)))
        client = ClientApp(client_fn=client_fn)
    run_simulation(server_app=server, client_app=client, num_supernodes=N_CLIENTS,
                   backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}})


def run_flower(python: str, secagg: bool) -> dict[str, Any] | None:
    """The Flower anchor in its own venv; ``None`` if it fails."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        timing = str(Path(tmp) / "timing.json")
        cmd = [python, __file__, "--flower-worker", timing] + (["--secagg"] if secagg else [])
        launch = time.time()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        with TreeRSS(proc.pid) as rss:
            _, err = proc.communicate(timeout=900)
        if proc.returncode != 0 or not Path(timing).exists():
            print(f"# flower anchor failed (secagg={secagg}): {err[-800:]}", file=sys.stderr)
            return None
        marks = json.loads(Path(timing).read_text())
    starts = {int(k): v for k, v in marks["fit_start"].items()}
    ends = {int(k): v for k, v in marks["round_end"].items()}
    if len(ends) < ROUNDS:
        return None
    first = starts[1]
    bounds = [first] + [ends[r] for r in range(1, ROUNDS + 1)]
    return {"startup_s": first - launch,
            "round_s": [b - a for a, b in itertools.pairwise(bounds)],
            "accuracy": [marks["acc"][str(r)] for r in range(1, ROUNDS + 1)], "rss_mb": rss.peak,
            "pss_mb": rss.peak_pss, "processes": rss.processes}


# --- report ---------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="memory hub only, < 60 s")
    ap.add_argument("--flwr-python", default=os.environ.get("COALITION_BENCH_FLWR_PYTHON"))
    ap.add_argument("--flower-worker", metavar="TIMING_FILE")
    ap.add_argument("--secagg", action="store_true")
    ap.add_argument("--reps", type=int, default=3, help="federations per configuration")
    args = ap.parse_args()
    if args.flower_worker:
        flower_worker(args.secagg, args.flower_worker)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import emit, ratio

    transports = ["memory"] if args.quick else ["memory", "grpc"]
    flower = flower_sec = None
    if args.flwr_python and not args.quick:
        flower = run_flower(args.flwr_python, secagg=False)
        flower_sec = run_flower(args.flwr_python, secagg=True)
    if flower:
        anchor, f_round = "flwr 1.42 simulation (measured, same run)", statistics.median(flower["round_s"])
        f_start, f_rss, f_pss = flower["startup_s"], flower["rss_mb"], flower["pss_mb"]
    else:
        anchor = "flwr 1.42 simulation (recorded: 0.23-0.42 s/round, 17-34 s start, 2.1 GB)"
        f_round, f_start, f_rss, f_pss = None, None, None, None
    if flower_sec and flower:
        sec_anchor = "flwr 1.42 SecAgg+ (measured, same run)"
        f_factor = statistics.median(flower_sec["round_s"]) / f_round
    else:
        sec_anchor, f_factor = "flwr 1.42 SecAgg+ (recorded: 1.8-2.7x)", None
    base = {"clients": N_CLIENTS, "rounds": ROUNDS, "model": f"mlp 64-{HIDDEN}-10 (9010 params)",
            "data": "sklearn digits", "local_epochs": EPOCHS, "batch": BATCH}
    if flower:
        base["flower_round_s"] = [round(t, 4) for t in flower["round_s"]]
        base["flower_accuracy"] = flower["accuracy"]
    for transport in transports:
        plains, secs = [], []
        reps = args.reps * (5 if transport == "memory" else 1)  # hub rounds are ~20 ms: noisy
        for _ in range(reps):  # alternate, so load drift hits both alike
            plains.append(run_coalition(transport, secagg=False))
            secs.append(run_coalition(transport, secagg=True))
        plain, sec = plains[-1], secs[-1]
        p_round = statistics.median(t for run in plains for t in run["round_s"])
        s_round = statistics.median(t for run in secs for t in run["round_s"])
        plain["startup_s"] = statistics.median(run["startup_s"] for run in plains)
        for field in ("rss_mb", "pss_mb", "parties_rss_mb"):
            plain[field] = max(run[field] for run in plains)
        params = base | {"transport": transport}
        emit(f"horizontal.round_time.{transport}", unit="s", ours=round(p_round, 4),
             anchor=anchor, anchor_value=f_round, higher_is_better=False, params=params,
             round_s=[round(t, 4) for t in plain["round_s"]], accuracy_per_round=plain["accuracy"],
             reps=reps)
        emit(f"horizontal.startup.{transport}", unit="s", ours=round(plain["startup_s"], 5),
             anchor=anchor, anchor_value=f_start, higher_is_better=False, params=params)
        scope = {"processes": plain["processes"],
                 "flower_processes": flower["processes"] if flower else None}
        emit(f"horizontal.peak_rss.{transport}", unit="MB", ours=round(plain["rss_mb"], 1),
             anchor=anchor, anchor_value=f_rss, higher_is_better=False,
             params=params | scope | {"scope": "whole process tree, summed RSS"},
             parties_only_rss_mb=round(plain["parties_rss_mb"], 1))
        emit(f"horizontal.peak_pss.{transport}", unit="MB", ours=round(plain["pss_mb"], 1),
             anchor=anchor, anchor_value=None if f_pss is None else round(f_pss, 1),
             higher_is_better=False,
             params=params | scope | {"scope": "whole process tree, summed PSS (shared pages "
                                               "split between processes)"})
        factor = s_round / p_round
        emit(f"horizontal.secagg_overhead.{transport}", unit="x", ours=round(factor, 3),
             anchor=sec_anchor, anchor_value=None if f_factor is None else round(f_factor, 3),
             higher_is_better=False, params=params | {"secagg": f"SecAgg+ degree {NEIGHBOURS}, threshold 3, 64-bit ring",
                                              "reps": reps},
             ratio=ratio(factor, f_factor, higher_is_better=False),
             secagg_round_s=[round(t, 4) for t in sec["round_s"]],
             secagg_accuracy_per_round=sec["accuracy"], secagg_peak_rss_mb=round(sec["rss_mb"], 1))


if __name__ == "__main__":
    main()
