"""Config: defaults, ${ENV} substitution, and one-line errors naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, config_from_mapping, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_is_valid_and_needs_no_secrets(monkeypatch):
    monkeypatch.delenv("CITYBOT_DATABASE_URL", raising=False)
    config = load_config(ROOT / "config.yaml")
    assert config.storage.url == "sqlite+aiosqlite:///data/citybot.db"
    assert config.database_url == f"sqlite+aiosqlite:///{ROOT / 'data' / 'citybot.db'}"
    assert config.city.tz.key == "Europe/Berlin"


def test_env_substitution_with_and_without_default(monkeypatch):
    monkeypatch.setenv("CB_NAME", "Bochum")
    config = config_from_mapping(
        {"city": {"name": "${CB_NAME}"}, "console": {"user": "${CB_UNSET:-gast}"}}
    )
    assert config.city.name == "Bochum" and config.console.user == "gast"


def test_missing_env_variable_names_key_and_variable():
    with pytest.raises(ConfigError, match=r"^city\.name: environment variable CB_NOPE is not set$"):
        config_from_mapping({"city": {"name": "${CB_NOPE}"}})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"nlu": {"threshold": 2}}, r"^nlu\.threshold: Input should be less than or equal to 1"),
        (
            {"city": {"timezone": "Mars/Olympus"}},
            r"^city\.timezone: unknown time zone 'Mars/Olympus'$",
        ),
        ({"storage": {"url": "mysql://x"}}, r"^storage\.url: must start with sqlite"),
        ({"storag": {}}, r"^storag: unknown key$"),
        ({"city": {"state": "XY"}}, r"^city\.state: unknown German state 'XY', one of BB, "),
        (
            {"city": {"default_language": "fr"}},
            r"^city\.default_language: Input should be 'de' or 'en'",
        ),
    ],
)
def test_invalid_values_fail_with_the_key_path(raw, message):
    with pytest.raises(ConfigError, match=message):
        config_from_mapping(raw)


def test_missing_explicit_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("city: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_cli_exits_non_zero_with_one_line(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("nlu:\n  threshold: -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--config", str(bad), "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "citybot: config error: nlu.threshold: Input should be greater than or equal to 0"
    ]
