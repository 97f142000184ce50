"""Shared fixtures: a fixed clock, demo settings, and isolation from the user's own config."""

from __future__ import annotations

import pytest

from cockpit import config
from cockpit.clock import FixedClock
from tests.fakes import T0


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Never read the developer's config or write to their data directory."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def demo_settings() -> config.Settings:
    return config.load(None, seed=7, scale=12)
