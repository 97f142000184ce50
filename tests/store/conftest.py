"""Fixtures for the team store: an initialised store on the session's PostgreSQL, operators."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from cockpit.connect.option_values import Secret
from cockpit.team import init as team_init
from cockpit.team.store_config import StoreConfig
from tests.pgserver import PASSWORD, SUPERUSER, PostgresServer


@dataclass
class Team:
    """One database on the test cluster, with `cockpit store init` applied."""

    server: PostgresServer
    database: str
    monkeypatch: pytest.MonkeyPatch

    def config(self, user: str = SUPERUSER, password: str = PASSWORD) -> StoreConfig:
        """A store: section for `user`, the password by env: reference as config has it."""
        var = f"COCKPIT_TEST_PW_{uuid.uuid4().hex[:8].upper()}"
        self.monkeypatch.setenv(var, password)
        url = f"postgresql://{user}@127.0.0.1:{self.server.port}/{self.database}"
        return StoreConfig(url=url, password=Secret(f"env:{var}"))

    def operator(self, name: str = "op", *groups: str) -> StoreConfig:
        """A new LOGIN role in `groups` (default: the writers), as config names it."""
        role = f"{name}_{uuid.uuid4().hex[:8]}"
        password = f"pw-{uuid.uuid4().hex}"
        self.server.create_role(role, password, *(groups or ("cockpit_writer",)))
        return self.config(role, password)

    def url(self) -> str:
        """The owner's URL with the password (for psycopg directly, never for cockpit)."""
        return self.server.url(self.database)


def make_team(server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Team:
    url = server.create_database("store")
    team = Team(server, urlsplit(url).path.lstrip("/"), monkeypatch)
    team_init.init(team.config())
    return team


@pytest.fixture
def team(pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Team:
    """A fresh database with the team store initialised (empty audit log)."""
    return make_team(pg_server, monkeypatch)
