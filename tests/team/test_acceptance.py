"""Issue 11's acceptance, in one run: two cockpits and a controller on one PostgreSQL.

Alice and Bob each run `cockpit` as their own process under their own database role; two
`cockpit controller` processes share the store (one leads, one stands by). A two-person
promote requested by Alice is approved by Bob and executed exactly once (the controllers
run nothing of it); killing the leading controller with SIGKILL hands over to the standby;
a policy version pushed by the admin is the one every cockpit enforces; the chain
verifies at the end. Each part has its own, finer tests (tests/team, tests/controller,
tests/team_policy); this one shows they hold together.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from cockpit.team.init import init
from tests.cli import ROOT
from tests.controller.controller_kit import Running, wait_for
from tests.integration.service import free_port
from tests.pgserver import PostgresServer
from tests.team.kit import operator_role, store_for
from tests.team.team_kit import fresh_home

PASSWORD_VAR = "COCKPIT_PGPASSWORD"
CONFIG = """\
environments: [dev, staging, prod]
connectors:
  - {{name: demo, type: demo, interval: 1s, options: {{seed: 7, services: 12}}}}
store:
  url: postgresql://{role}@127.0.0.1:{port}/{database}
  password: env:COCKPIT_PGPASSWORD
controller: {{retry: 1s, heartbeat: 1s}}
identities:
{identities}
"""
V1 = """\
policy:
  environments:
    prod: {two_person: [promote], unknown_gates: warn}
"""
V2 = """\
policy:
  roles:
    captains: [bob]
  permissions:
    promote: [captains]
  environments:
    prod: {two_person: [promote], unknown_gates: warn}
"""
PROMOTE = ("promote", "checkout", "prod", "--reason", "ship the checkout fix", "--confirm")


class Desk:
    """One person's (or controller's) config, password and `cockpit` runs."""

    def __init__(self, folder: Path, home: Path, name: str, role: str, password: str) -> None:
        self.name, self.role, self.password, self.home = name, role, password, home
        self.config = folder / f"{name}.yaml"

    def env(self) -> dict[str, str]:
        return {**fresh_home(self.home), PASSWORD_VAR: self.password}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cockpit", "-c", str(self.config), *args],
            capture_output=True, text=True, cwd=self.home, env=self.env(), timeout=120,
            check=False,
        )  # fmt: skip

    def controller(self) -> Running:
        port = free_port()
        log = self.home / f"controller-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cockpit", "-c", str(self.config), "controller",
                 "--listen", f"127.0.0.1:{port}"],
                cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return Running(proc, port, log)


@pytest.fixture
def desks(pg_server: PostgresServer, pg_url: str, tmp_path: Path) -> dict[str, Desk]:
    init(store_for(pg_url))
    home = tmp_path / "home"
    home.mkdir()
    groups = {
        "alice": ("cockpit_writer",),
        "bob": ("cockpit_writer",),
        "admin": ("cockpit_writer", "cockpit_policy_admin"),
        "controller": ("cockpit_controller",),
    }
    roles = {name: operator_role(pg_server, pg_url, *g) for name, g in groups.items()}
    people = [n for n in roles if n != "controller"]
    identities = "\n".join(f"  {n}: {{db_role: {roles[n][0]}}}" for n in people)
    out = {}
    for name, (role, url) in roles.items():
        desk = Desk(tmp_path, home, name, role, urlsplit(url).password or "")
        desk.config.write_text(
            CONFIG.format(
                role=role,
                port=pg_server.port,
                database=pg_url.rsplit("/", 1)[1],
                identities=identities,
            )
        )
        out[name] = desk
    return out


@pytest.fixture
def controllers(desks: dict[str, Desk]) -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for running in started:
        running.stop()


def records(url: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT body FROM cockpit.audit_log ORDER BY seq").fetchall()
    return [json.loads(r[0]) for r in rows]


def push(desk: Desk, text: str, name: str) -> None:
    path = desk.config.parent / name
    path.write_text(text)
    out = desk.run("policy", "push", str(path))
    assert out.returncode == 0, out.stdout + out.stderr


def test_two_cockpits_and_a_controller_on_one_store(
    desks: dict[str, Desk], controllers: list[Running], pg_url: str
) -> None:
    alice, bob, admin = desks["alice"], desks["bob"], desks["admin"]
    push(admin, V1, "v1.yaml")
    controllers.append(desks["controller"].controller())
    wait_for(controllers[0].leads, 30, f"the first controller leads\n{controllers[0].tail()}")
    controllers.append(desks["controller"].controller())
    standby = controllers[1]
    wait_for(lambda: standby.role() == "standby", 30, f"a standby\n{standby.tail()}")

    # Alice files the two-person promote in her cockpit; Bob approves it in his.
    asked = alice.run(*PROMOTE, "checkout", "--yes")
    assert asked.returncode == 4, asked.stdout + asked.stderr  # waiting for an approver
    pending = [r for r in records(pg_url) if r["event_type"] == "approval.pending"]
    assert len(pending) == 1 and pending[0]["actor"]["user"] == "alice"
    rid = pending[0]["request_id"]
    approved = bob.run("approve", rid, "--reason", "reviewed the canary", "--yes")
    assert approved.returncode == 0, approved.stdout + approved.stderr

    # Executed exactly once, by Bob's cockpit, never again by a controller.
    leader = controllers[0]
    leader.kill()  # SIGKILL: the standby takes over
    took = wait_for(standby.leads, 15, f"the standby takes over\n{standby.tail()}")
    assert took <= 15
    ran = [
        r
        for r in records(pg_url)
        if r["event_type"] == "action.succeeded" and r["action"] == "promote"
    ]
    assert len(ran) == 1 and ran[0]["actor"]["user"] == "bob"
    assert ran[0]["extra"]["initiator"] == "alice" and ran[0]["extra"]["approvers"] == ["bob"]

    def started() -> list[int]:
        return [
            r["extra"]["pid"] for r in records(pg_url) if r["event_type"] == "controller.started"
        ]

    # The new leader records its start just after it takes the lock.
    wait_for(lambda: len(started()) == 2, 10, "the new leader's controller.started record")
    assert started() == [leader.proc.pid, standby.proc.pid]

    # The policy pushed is the one enforced: v2 lets only captains (Bob) promote.
    push(admin, V2, "v2.yaml")
    refused = alice.run(*PROMOTE, "checkout", "--yes")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "needs one of the roles captains" in refused.stdout + refused.stderr
    last = [r for r in records(pg_url) if r["event_type"] == "action.refused"][-1]
    assert last["actor"]["user"] == "alice"
    assert last["policy"]["policy_version"].startswith("team v2 sha256:")

    verified = bob.run("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
