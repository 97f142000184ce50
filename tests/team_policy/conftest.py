"""A team store with a policy admin and an operator, each with a config file of their own."""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from cockpit.audit import VerifyResult, open_store
from cockpit.clock import SystemClock
from cockpit.connect.option_values import Secret
from cockpit.team import init as team_init
from cockpit.team.store_config import StoreConfig
from tests.cli import cockpit
from tests.pgserver import PASSWORD, SUPERUSER, PostgresServer

CONFIG = """\
connectors:
  - name: demo
    type: demo
    options: {{seed: 7, services: 4}}
store:
  url: postgresql://{role}@127.0.0.1:{port}/{database}
  password: env:{var}
"""


@dataclass
class Member:
    """A LOGIN role of the team and the config.yaml it runs the cockpit with."""

    role: str
    password: str
    config: Path
    team: Team

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return cockpit("-c", str(self.config), *args, cwd=self.config.parent)

    def with_policy(self, policy_yaml: str) -> Path:
        """This member's config with a local `policy:` section added (a copy)."""
        path = self.config.with_name(f"{self.role}-local-{uuid.uuid4().hex[:6]}.yaml")
        path.write_text(self.config.read_text() + policy_yaml)
        return path


@dataclass
class Team:
    server: PostgresServer
    database: str
    folder: Path
    monkeypatch: pytest.MonkeyPatch

    owner: StoreConfig

    def owner_url(self) -> str:
        return self.server.url(self.database)

    def verify(self) -> VerifyResult:
        """The team store's audit chain, verified."""
        with open_store(None, clock=SystemClock(), store=self.owner, create=False) as store:
            return store.verify()

    def member(self, name: str, *groups: str) -> Member:
        role = f"{name}_{uuid.uuid4().hex[:8]}"
        password = f"pw-{uuid.uuid4().hex}"
        self.server.create_role(role, password, *(groups or ("cockpit_writer",)))
        var = f"COCKPIT_TEST_PW_{role.upper()}"
        self.monkeypatch.setenv(var, password)
        config = self.folder / f"{role}.yaml"
        config.write_text(
            CONFIG.format(role=role, port=self.server.port, database=self.database, var=var)
        )
        return Member(role, password, config, self)

    def admin(self) -> Member:
        return self.member("admin", "cockpit_writer", "cockpit_policy_admin")

    def connect(self, member: Member | None = None) -> psycopg.Connection[tuple[Any, ...]]:
        if member is None:
            return psycopg.connect(self.owner_url(), autocommit=True)
        url = self.server.url(self.database, member.role, member.password)
        return psycopg.connect(url, autocommit=True)


@pytest.fixture
def team(pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Team:
    """A fresh database with `cockpit store init` applied (as its owner)."""
    url = pg_server.create_database("policy")
    database = urlsplit(url).path.lstrip("/")
    var = f"COCKPIT_TEST_PW_OWNER_{uuid.uuid4().hex[:8].upper()}"
    monkeypatch.setenv(var, PASSWORD)
    owner = StoreConfig(
        url=f"postgresql://{SUPERUSER}@127.0.0.1:{pg_server.port}/{database}",
        password=Secret(f"env:{var}"),
    )
    team_init.init(owner)
    return Team(pg_server, database, tmp_path, monkeypatch, owner)
