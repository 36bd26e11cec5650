"""Finding 4: a host replays a stratified ``data_split`` from the one message it receives.

The host (the attacker) sees the guest's ``test_rows`` message — the number of rows and the
sorted test positions — and the public job parameters (``test_size``, ``seed``). On 3deb866 the
guest permuted each class with ``default_rng(seed)``; the permutation of a class of ``n_c`` rows
depends only on the seed and ``n_c``, so the host enumerates the class counts, replays the
draws, and keeps every labelling consistent with the positions it saw (an exact dynamic program
over "how many rows of class 0 came before this row"). A label that is the same in every
consistent labelling is recovered with certainty. Now the guest draws from a secret CSPRNG key:
no replay is consistent, and membership is no better than a coin for the label.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from coalition.components import Dataset, Environment, TaskContext
from coalition.components.data_split import DataSplit
from coalition.core import Context, Party
from coalition.testing import Recorder, run_parties

G, H = Party.guest("bank"), Party.host("telco")


def _run_split(guest: Dataset, host: Dataset, params: dict[str, Any]) -> tuple[Recorder, Any]:
    rec = Recorder()

    def role(party: Party, data: Dataset) -> Callable[[Context], Any]:
        def main(ctx: Context) -> Any:
            tctx = TaskContext(ctx, "split", DataSplit.parse_params(params), {"data": data},
                               Environment())
            return dict(DataSplit().run(tctx))
        return main

    out = run_parties({G: role(G, guest), H: role(H, host)}, wrap=rec.wrap, timeout=60)
    return rec, out


def _consistent_labels(n: int, test: np.ndarray, test_size: float, seed: int
                       ) -> tuple[int, np.ndarray]:
    """(number of consistent class counts, per-row set of possible labels as a 2-bit mask)."""
    in_test = np.zeros(n, dtype=bool)
    in_test[test] = True
    possible = np.zeros(n, dtype=np.int64)
    found = 0
    for n0 in range(1, n):
        n1 = n - n0
        k0, k1 = round(n0 * test_size), round(n1 * test_size)
        if k0 + k1 != test.size:
            continue
        rng = np.random.default_rng(seed)
        s0 = np.zeros(n0, dtype=bool)
        s0[rng.permutation(n0)[:k0]] = True
        s1 = np.zeros(n1, dtype=bool)
        s1[rng.permutation(n1)[:k1]] = True
        # state z = rows of class 0 before row i (z in 0..n0); class-1 rank is i - z
        z = np.arange(n0 + 1)
        forward = np.zeros((n + 1, n0 + 1), dtype=bool)
        forward[0, 0] = True
        can0 = np.zeros((n, n0 + 1), dtype=bool)
        can1 = np.zeros((n, n0 + 1), dtype=bool)
        for i in range(n):
            r1 = i - z
            ok0 = (z < n0) & (s0[np.minimum(z, n0 - 1)] == in_test[i])
            ok1 = (r1 >= 0) & (r1 < n1) & (s1[np.clip(r1, 0, n1 - 1)] == in_test[i])
            can0[i], can1[i] = ok0, ok1
            nxt = np.zeros(n0 + 1, dtype=bool)
            nxt[1:] |= (forward[i] & ok0)[:-1]
            nxt |= forward[i] & ok1
            forward[i + 1] = nxt
        if not forward[n, n0]:
            continue
        found += 1
        backward = np.zeros(n0 + 1, dtype=bool)
        backward[n0] = True
        for i in range(n - 1, -1, -1):
            via0 = forward[i] & can0[i] & np.r_[backward[1:], False]
            via1 = forward[i] & can1[i] & backward
            possible[i] |= (1 if via0.any() else 0) | (2 if via1.any() else 0)
            shifted = np.zeros(n0 + 1, dtype=bool)
            shifted[:-1] = backward[1:] & can0[i][:-1]
            backward = shifted | (backward & can1[i])
    return found, possible


def _breast(fate_data: Any, n: int) -> tuple[Dataset, Dataset, np.ndarray]:
    g = pd.read_csv(fate_data / "breast_hetero_guest.csv", dtype={"id": str}).head(n)
    h = pd.read_csv(fate_data / "breast_hetero_host.csv", dtype={"id": str})
    h = h.set_index("id").loc[g["id"]].reset_index()
    return Dataset(g, "id", "y"), Dataset(h, "id"), g["y"].to_numpy(dtype=np.float64)


def test_host_cannot_replay_the_stratified_split_to_recover_labels(fate_data):
    params = {"test_size": 0.3, "stratified": True, "seed": 7}
    guest, host, y = _breast(fate_data, 300)
    rec, out = _run_split(guest, host, params)
    msgs = rec.received_by(H)
    assert len(msgs) == 1  # everything the host learns from the guest
    msg = msgs[0].value()
    n, test = int(msg["n_rows"]), np.asarray(msg["test"], dtype=np.int64)
    assert out[H]["test"].ids() == out[G]["test"].ids()  # the split still works

    found, possible = _consistent_labels(n, test, params["test_size"], params["seed"])
    certain = (possible == 1) | (possible == 2)
    recovered = int(np.sum(certain & (np.where(possible == 2, 1.0, 0.0) == y)))
    # 3deb866: one consistent class count and about half the labels known for certain
    assert found == 0 and recovered == 0, (found, recovered)

    # Membership alone: the best rule mapping in/out of the test set to a label is no better
    # than always answering the majority class (stratification keeps the class mix equal).
    member = np.zeros(n, dtype=bool)
    member[test] = True
    majority = max(np.mean(y == 0), np.mean(y == 1))
    rules = [np.where(member, a, b) for a in (0.0, 1.0) for b in (0.0, 1.0)]
    best = max(float(np.mean(r == y)) for r in rules)
    assert best <= majority + 0.02


def test_two_runs_with_the_same_public_seed_draw_different_splits(fate_data):
    """The public seed no longer determines the partition (3deb866: identical splits)."""
    guest, host, _ = _breast(fate_data, 120)
    params = {"test_size": 0.3, "seed": 7}
    first = _run_split(guest, host, params)[1][H]["test"].ids()
    second = _run_split(guest, host, params)[1][H]["test"].ids()
    assert first != second
