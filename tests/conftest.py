"""Shared fixtures: a fixed clock, demo settings, and isolation from the user's own config."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cockpit import config
from cockpit.clock import FixedClock
from tests.fakes import T0
from tests.pgserver import PostgresServer


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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL cluster for the session (skipped without the binaries locally,
    failed under CI=true); tests take a fresh database each through `pg_url`."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """The superuser URL of a new, empty database on the session's PostgreSQL."""
    return pg_server.create_database()
