"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "fate"


@pytest.fixture(scope="session")
def fate_data() -> Path:
    """Folder of FATE's public example CSVs (../shared/data/fate); skip if absent."""
    if not DATA_DIR.is_dir():
        pytest.skip("shared example data not available")
    return DATA_DIR
