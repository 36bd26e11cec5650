"""Fixtures for the console's end-to-end tests: the demo's three node processes (bank, telco,
car maker) on loopback, started and prepared by the code ``make demo`` runs
(:func:`coalition.demo.network.demo_nodes`), and Debian's Chromium driven by playwright (never
playwright's own browsers)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pytest
from consolekit import ARTIFACTS, CHROMIUM, World
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from coalition.demo.network import demo_nodes

KINDS = ["psi", "data_split", "hetero_secureboost", "predict"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """What ``make demo`` leaves for its user (less its first job, which the console runs),
    plus what the drag-and-drop journey needs: a second bank table for the console to register,
    and a second telco table whose grant waits in the telco's inbox."""
    root = tmp_path_factory.mktemp("console")
    with demo_nodes(root, customers=300) as cluster:
        data = root / "data"
        # Tables of their own (one customer fewer), so that no task of the journey's job is
        # reused from the demo job's cached outputs.
        for source, table in (("bank", "bank_applicants"), ("telco", "telco_usage")):
            frame = pd.read_csv(data / f"{source}.csv", dtype={"phone": str})
            frame.iloc[:-1].to_csv(data / f"{table}.csv", index=False)
        cluster.register_dataset("telco", "telco_usage", data / "telco_usage.csv",
                                 id_column="phone")
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
        with cluster["telco"].client() as telco, cluster["bank"].client() as bank:
            telco.share_dataset("telco_usage", "bank")
            asked = bank.ask_grant("telco", "telco_usage", purpose="credit model",
                                   component_kinds=KINDS, valid_until=until)
            assert asked["status"] == "pending"  # the console's inbox decides it
        ids = pd.read_csv(data / "bank.csv", dtype={"phone": str})["phone"].tolist()
        yield World(cluster, data / "bank_applicants.csv", ids)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} missing: `make chromium` installs Debian's chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=["--no-sandbox", "--disable-background-networking"])
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()
