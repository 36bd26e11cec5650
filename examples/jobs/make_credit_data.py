"""Write the credit-risk example's data: ``data/bank.csv`` (guest) and ``data/telco.csv`` (host).

Synthetic, generated from a seed (``coalition.engine.synthetic``): a bank with labels
(``default``) and a telco whose customer bases overlap; both keyed by ``phone``. Then run::

    python examples/jobs/make_credit_data.py
    coalition job run-local examples/jobs/credit_risk.yaml

It also writes ``bank_raw.csv`` and ``telco_raw.csv``: the same customers as raw exports
would have them, with missing values and text columns, for ``credit_scorecard.yaml``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from coalition.demo.templates.generators import raw_exports
from coalition.engine.synthetic import make_credit_scenario


def write_credit_data(folder: Path, n_bank: int = 2000, n_telco: int = 2500,
                      n_shared: int = 1500, seed: int = 7) -> tuple[Path, Path]:
    """Generate and write both parties' CSV files under ``folder``."""
    scenario = make_credit_scenario(n_bank, n_telco, n_shared, seed)
    folder.mkdir(parents=True, exist_ok=True)
    bank, telco = folder / "bank.csv", folder / "telco.csv"
    scenario.bank.to_csv(bank, index=False)
    scenario.telco.to_csv(telco, index=False)
    write_raw(scenario.bank, scenario.telco, folder)
    return bank, telco


def write_raw(bank: pd.DataFrame, telco: pd.DataFrame, folder: Path) -> tuple[Path, Path]:
    """Raw exports: an ``employment`` and a ``plan`` text column, income and data usage
    missing for some customers (seeded; :func:`coalition.demo.templates.generators.raw_exports`,
    the joint credit risk template's generator)."""
    bank, telco = raw_exports(bank, telco)
    paths = folder / "bank_raw.csv", folder / "telco_raw.csv"
    bank.to_csv(paths[0], index=False)
    telco.to_csv(paths[1], index=False)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--customers", type=int, default=2000, help="bank customers")
    args = parser.parse_args()
    n = args.customers
    for path in write_credit_data(args.out, n, n * 5 // 4, n * 3 // 4):
        print(path)
