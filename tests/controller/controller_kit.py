"""A team store with a controller's role and config: `cockpit store init`, the policy pushed
(automatic rollback in prod), and `cockpit controller` as a process of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from cockpit import config
from cockpit.config import Settings
from cockpit.team.init import init
from tests.cli import ROOT
from tests.integration.service import free_port
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
    prod: {{auto_rollback: true, unknown_gates: warn}}
store:
  url: postgresql://{role}@127.0.0.1:{port}/{database}
  password: env:COCKPIT_PGPASSWORD
controller:
  retry: {retry}
  heartbeat: 1s
"""


@dataclass
class Team:
    """The store (superuser URL), the controller's config and its role's password."""

    server: PostgresServer
    url: str
    config: Path
    password: str
    home: Path
    role: str  # the controller's LOGIN role

    def env(self) -> dict[str, str]:
        home = str(self.home)
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": home,
            "XDG_DATA_HOME": home,
            "XDG_CONFIG_HOME": home,
            "PYTHONPATH": str(ROOT),
            PASSWORD_VAR: self.password,
        }

    def settings(self) -> Settings:
        return config.load(str(self.config), env=self.env())

    def start(self, port: int | None = None) -> Running:
        """`cockpit controller` in a process of its own, on a free loopback port."""
        port = port or free_port()
        log = (self.home / f"controller-{port}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "cockpit", "-c", str(self.config), "controller",
             "--listen", f"127.0.0.1:{port}"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return Running(proc, port, self.home / f"controller-{port}.log")

    def records(self) -> list[dict[str, Any]]:
        """The team's audit records, read behind everyone's back."""
        with psycopg.connect(self.url) as conn:
            rows = conn.execute("SELECT body FROM cockpit.audit_log ORDER BY seq").fetchall()
        return [json.loads(r[0]) for r in rows]

    def lease(self) -> tuple[Any, ...] | None:
        with psycopg.connect(self.url) as conn:
            return conn.execute(
                "SELECT host, pid, ended FROM cockpit.controller_lease WHERE id = 1"
            ).fetchone()


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, b""

    def role(self) -> str:
        status, body = self.get("/healthz")
        return str(json.loads(body).get("role")) if status in (200, 503) and body else ""

    def leads(self) -> bool:
        return self.get("/readyz")[0] == 200

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def make_team(server: PostgresServer, url: str, folder: Path, retry: str = "2s") -> Team:
    """The store initialised, a controller role, its config, and the policy pushed."""
    init(store_for(url))
    home = folder / "home"
    home.mkdir()
    controller_role, controller_url = operator_role(server, url, "cockpit_controller")
    admin_role, admin_url = operator_role(server, url, "cockpit_writer", "cockpit_policy_admin")
    database, port = url.rsplit("/", 1)[1], server.port
    path = folder / "controller.yaml"
    path.write_text(CONFIG.format(role=controller_role, port=port, database=database, retry=retry))
    admin = folder / "admin.yaml"
    admin.write_text(CONFIG.format(role=admin_role, port=port, database=database, retry=retry))
    team = Team(server, url, path, urlsplit(controller_url).password or "", home, controller_role)
    pushed = subprocess.run(
        [sys.executable, "-m", "cockpit", "-c", str(admin), "policy", "push", str(admin)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
        env={**team.env(), PASSWORD_VAR: urlsplit(admin_url).password or ""},
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    return team


def wait_for(condition: Callable[[], bool], within: float, what: str) -> float:
    """Poll `condition` every 20 ms; the seconds it took, or fail naming `what`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            raise AssertionError(f"{what}: not within {within:g}s")
        time.sleep(0.02)
    return time.monotonic() - start
