"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parent / "data" / "fate"


@pytest.fixture(scope="session")
def fate_data() -> Path:
    """Folder of FATE's public example CSVs carried by the repository (tests/data/fate).

    A missing folder is a failure, never a skip: a clone must run every test.
    """
    if not DATA_DIR.is_dir():
        pytest.fail(f"test data missing: {DATA_DIR} (it is part of the repository)")
    return DATA_DIR
