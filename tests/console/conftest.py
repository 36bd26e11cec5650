"""Fixtures for the console's end-to-end tests: two real node processes (bank, telco) on
loopback and Debian's Chromium driven by playwright (never playwright's own browsers)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pytest
from consolekit import ARTIFACTS, CHROMIUM, World
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from coalition.demo.cluster import start_cluster
from coalition.engine.synthetic import make_credit_scenario

KINDS = ["psi", "data_split", "hetero_secureboost", "predict"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("console")
    data = root / "data"
    data.mkdir()
    scenario = make_credit_scenario(300, 350, 220, seed=11)
    scenario.bank.to_csv(data / "bank.csv", index=False)
    scenario.telco.to_csv(data / "telco.csv", index=False)
    with start_cluster(root / "nodes", ("bank", "telco"), data_dirs=[data],
                       fast_password_hashing=True) as cluster:
        cluster.register_dataset("telco", "telco_subscribers", data / "telco.csv",
                                 id_column="phone")
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
        with cluster["telco"].client() as telco, cluster["bank"].client() as bank:
            telco.share_dataset("telco_subscribers", "bank")
            asked = bank.ask_grant("telco", "telco_subscribers", purpose="credit model",
                                   component_kinds=KINDS, valid_until=until)
            assert asked["status"] == "pending"  # the console's inbox decides it
        ids = pd.read_csv(data / "bank.csv", dtype={"phone": str})["phone"].tolist()
        yield World(cluster, data / "bank.csv", ids)


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

