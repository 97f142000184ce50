"""A team of cockpits on one real PostgreSQL: the store initialised, one LOGIN role per
operator (alice and bob in cockpit_writer, an admin who may push policy), a config file
each (the demo fleet, the two-person rule on prod promotes, `store:` with the password by
reference), the policy pushed, and `cockpit` run as a separate process per operator."""

from __future__ import annotations

import asyncio
import functools
import os
import pwd
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from cockpit import config
from cockpit.config import Settings
from cockpit.team.init import init
from tests.cli import ROOT
from tests.pgserver import PostgresServer
from tests.team.kit import operator_role, store_for

PASSWORD_VAR = "COCKPIT_PGPASSWORD"

CONFIG = """\
environments: [dev, staging, prod]
connectors:
  - name: demo
    type: demo
    interval: 1s
    options: {{seed: 7, services: 12}}
policy:
  environments:
    prod: {{two_person: [promote], unknown_gates: warn}}
store:
  url: postgresql://{role}@127.0.0.1:{port}/{database}
  password: env:COCKPIT_PGPASSWORD
identities:
{identities}
"""


@dataclass
class Operator:
    name: str
    role: str
    password: str
    config: Path


@dataclass
class Team:
    server: PostgresServer
    url: str  # the superuser's, to read the log behind everyone's back
    home: Path
    people: dict[str, Operator] = field(default_factory=dict)

    def env(self, who: str) -> dict[str, str]:
        return {**fresh_home(self.home), PASSWORD_VAR: self.people[who].password}

    def argv(self, who: str, *args: str, python: str = sys.executable) -> list[str]:
        return [python, "-m", "cockpit", "-c", str(self.people[who].config), *args]

    def run(self, who: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(who, *args),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=self.env(who),
            timeout=120,
            check=False,
        )

    def run_as_another_os_user(self, who: str, *args: str) -> subprocess.CompletedProcess[str]:
        """`cockpit` with `who`'s config and password, from another OS login (`nobody`)."""
        found = another_os_user()
        assert found is not None, "no other OS user can run the cockpit here (needs root)"
        user, python, path = found
        return subprocess.run(
            self.argv(who, *args, python=python),
            capture_output=True,
            text=True,
            cwd=self.home,
            env={**self.env(who), "PYTHONPATH": path},
            timeout=120,
            check=False,
            user=user,
        )

    async def start(self, who: str, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *self.argv(who, *args),
            cwd=ROOT,
            env=self.env(who),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    def settings(self, who: str) -> Settings:
        """What `cockpit -c <who's config>` loads, for a TUI in the test's process."""
        return config.load(str(self.people[who].config), env=self.env(who))


def fresh_home(home: Path) -> dict[str, str]:
    """An environment with `home` as HOME and XDG directories: no user's config or log."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
        "PYTHONPATH": str(ROOT),
    }


@functools.cache
def another_os_user() -> tuple[str, str, str] | None:
    """(login, python, PYTHONPATH) with which `nobody` runs this checkout, or None.

    Only root can start a process as another user; that user may not reach the venv's base
    interpreter (under root's home), so the system's Python of the same version is tried
    too, with the venv's packages on its path."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return None
    path = f"{ROOT}{os.pathsep}{sysconfig.get_paths()['purelib']}"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for python in (sys.executable, f"/usr/bin/python{version}"):
        try:
            probe = subprocess.run(
                [python, "-c", "import psycopg, cockpit.cli"],
                capture_output=True,
                cwd="/",
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": path, "HOME": "/"},
                user="nobody",
                check=False,
                timeout=60,
            )
        except OSError:  # that interpreter is out of its reach
            continue
        if probe.returncode == 0:
            return "nobody", python, path
    return None


def make_team(server: PostgresServer, url: str, folder: Path) -> Team:
    init(store_for(url))
    home = folder / "home"
    home.mkdir()
    home.chmod(0o777)  # an operator under another OS user writes there too
    folder.chmod(0o755)
    team = Team(server, url, home)
    roles = {
        "alice": operator_role(server, url, "cockpit_writer"),
        "bob": operator_role(server, url, "cockpit_writer"),
        "admin": operator_role(server, url, "cockpit_writer", "cockpit_policy_admin"),
    }
    identities = "\n".join(f"  {name}: {{db_role: {role}}}" for name, (role, _) in roles.items())
    database = url.rsplit("/", 1)[1]
    for name, (role, role_url) in roles.items():
        path = folder / f"{name}.yaml"
        path.write_text(
            CONFIG.format(role=role, port=server.port, database=database, identities=identities),
            encoding="utf-8",
        )
        path.chmod(0o644)
        password = urlsplit(role_url).password or ""
        team.people[name] = Operator(name, role, password, path)
    pushed = team.run("admin", "policy", "push", str(team.people["admin"].config))
    assert pushed.returncode == 0, pushed.stderr
    return team
