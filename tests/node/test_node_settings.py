from __future__ import annotations

from pathlib import Path

import pytest
from nodekit import FAST_ARGON2

from coalition.core.errors import ConfigError
from coalition.node.settings import NodeSettings


def test_load_reads_file_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    NodeSettings(home=tmp_path, name="bank", api_port=9000, **FAST_ARGON2).save()
    assert NodeSettings.load(tmp_path).api_port == 9000
    monkeypatch.setenv("COALITION_NODE_API_PORT", "9100")
    assert NodeSettings.load(tmp_path).api_port == 9100
    assert NodeSettings.load(tmp_path).argon2_time_cost == 1


def test_load_without_settings_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="settings file missing"):
        NodeSettings.load(tmp_path)


def test_bad_yaml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "node.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        NodeSettings.load(tmp_path)


def test_defaults_use_library_argon2_costs(tmp_path: Path) -> None:
    import argon2

    settings = NodeSettings(home=tmp_path, name="bank")
    assert settings.argon2_memory_cost == argon2.DEFAULT_MEMORY_COST
    assert settings.db_url.startswith("sqlite:///")
