"""Helpers for the console's end-to-end tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import BrowserContext, Page

from coalition.demo.cluster import Cluster

CHROMIUM = Path(os.environ.get("COALITION_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@dataclass
class World:
    """The running nodes and where the bank's table lies (the console registers it)."""

    cluster: Cluster
    bank_csv: Path
    bank_ids: list[str]


def english(ctx: BrowserContext) -> None:
    """Start every page of ``ctx`` in English (the console's default is zh-CN)."""
    ctx.add_init_script("localStorage.setItem('coalition.language', 'en')")


def sign_in(page: Page, url: str, password: str) -> None:
    """Sign in as the node's admin."""
    page.goto(url + "/")
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill(password)
    page.locator("form.signin button[type=submit]").click()
    page.locator("nav.side").wait_for()


def shot(page: Page, name: str) -> None:
    """Save a screenshot as a test artifact (tests/console/artifacts/, git-ignored)."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
