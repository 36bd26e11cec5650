"""Fixtures for node tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from nodekit import NodeEnv, make_env


@pytest.fixture
def env(tmp_path: Path, fate_data: Path) -> Iterator[NodeEnv]:
    """A fresh node named ``bank`` that may read the FATE example data and ``tmp_path/data``."""
    (tmp_path / "data").mkdir()
    node = make_env(tmp_path / "bank", data_dirs=[fate_data, tmp_path / "data"])
    yield node
    node.close()


@pytest.fixture(scope="module")
def shared_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeEnv]:
    """One node for a whole module of tests that do not depend on each other's state."""
    node = make_env(tmp_path_factory.mktemp("shared") / "bank")
    yield node
    node.close()
