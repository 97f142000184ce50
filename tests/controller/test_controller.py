"""`cockpit controller`: team mode only, no Textual, and as leader it rolls a failing canary
back under the team's policy, audited, and counts it all on /metrics."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest

from cockpit.actions.autopilot import AUTO_ACTOR
from cockpit.clock import FixedClock
from cockpit.controller.run import CONTROLLER_USER, Controller
from tests.cli import ROOT, cockpit
from tests.controller.controller_kit import Running, make_team, wait_for
from tests.fakes import T0
from tests.integration.service import free_port
from tests.pgserver import PostgresServer
from tests.team.kit import until
from tests.team.team_kit import another_os_user


def test_without_a_store_the_controller_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("environments: [prod]\nconnectors:\n  - {name: demo, type: demo}\n")
    done = cockpit("-c", str(path), "controller")
    assert done.returncode == 2
    assert "team mode only" in done.stderr and "store:" in done.stderr
    # The demo (no config at all) is single-user too.
    assert cockpit("controller").returncode == 2


def test_a_remote_listen_address_is_refused_without_allow_remote(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    team = make_team(pg_server, pg_url, tmp_path)
    done = cockpit("-c", str(team.config), "controller", "--listen", "0.0.0.0:9464", env=team.env())
    assert done.returncode == 2 and "allow_remote" in done.stderr


def test_the_controllers_help_loads_no_ui() -> None:
    probe = (
        "import contextlib, io, sys\nfrom cockpit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['controller', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'psycopg',"
        " 'prometheus_client', 'httpx')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"


def test_a_leading_controller_never_imports_textual(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    """The whole command, run until it leads and then stopped with SIGTERM, in one process
    that reports what it imported."""
    team = make_team(pg_server, pg_url, tmp_path)
    probe = f"""
import os, signal, sys, threading, time, urllib.request
from cockpit.cli import main

def stop_once_leading():
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:{{port}}/readyz", timeout=1):
                break
        except Exception:
            time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)

port = {{port}}
threading.Thread(target=stop_once_leading, daemon=True).start()
code = main(["-c", {str(team.config)!r}, "controller", "--listen", f"127.0.0.1:{{port}}"])
print("EXIT", code, "TEXTUAL", sorted(m for m in sys.modules if m.split(".")[0] == "textual"))
"""
    port = free_port()
    out = subprocess.run(
        [sys.executable, "-c", probe.replace("{port}", str(port))],
        capture_output=True, text=True, cwd=ROOT, env=team.env(), timeout=120, check=False,
    )  # fmt: skip
    assert "EXIT 0 TEXTUAL []" in out.stdout, out.stdout + out.stderr[-3000:]
    assert any(r["event_type"] == "controller.started" for r in team.records())


def _scrape(port: int, path: str = "/metrics") -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.read().decode()


def _value(metrics: str, name: str, **labels: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.match(r"([a-z_]+)(\{.*\})? (\S+)$", line)
        if m is None or m.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    raise AssertionError(f"{name}{labels} not in the scrape:\n{metrics}")


async def test_the_leader_rolls_a_failing_canary_back_and_says_so_on_metrics(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    team = make_team(pg_server, pg_url, tmp_path)
    clock = FixedClock(T0)
    controller = Controller(team.settings(), host="127.0.0.1", port=0, clock=clock)
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    try:
        await until(lambda: controller.term is not None and controller.role == "leader", 30, "lead")
        term = controller.term
        assert term is not None and term.hub is not None
        hub = term.hub
        await until(lambda: bool(hub.snapshot.canaries), 30, "the demo's canaries")
        port = controller.server.port
        health = json.loads(await asyncio.to_thread(_scrape, port, "/healthz"))
        assert health["role"] == "leader"
        # The demo's payments canary in prod degrades as its clock moves: the judge fails it.
        for _ in range(10):
            clock.advance(30)
            await hub.refresh()

        def rolled_back() -> bool:
            done = controller.metrics.registry.get_sample_value(
                "cockpit_controller_actions_total", {"kind": "rollback", "status": "succeeded"}
            )
            return (done or 0) >= 1

        await until(rolled_back, 30, "the automatic rollback")
        canary = hub.snapshot.cell("payments", "prod").canary
        assert canary is not None and not canary.phase.active
        metrics = await asyncio.to_thread(_scrape, port)
        assert _value(metrics, "cockpit_controller_leader") == 1
        assert _value(metrics, "cockpit_controller_actions_total", kind="rollback",
                      status="succeeded") == 1  # fmt: skip
        assert _value(metrics, "cockpit_connector_polls_total", connector="demo") >= 10
        assert _value(metrics, "cockpit_canary_verdicts_total", environment="prod",
                      decision="fail") >= 1  # fmt: skip
        assert _value(metrics, "cockpit_audit_append_seconds_count") >= 3
        assert _value(metrics, "cockpit_connector_up", connector="demo") == 1
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    log = team.records()
    kinds = [r["event_type"] for r in log]
    assert kinds.count("controller.started") == 1 and kinds[-1] == "controller.stopped"
    [done] = [r for r in log if r["event_type"] == "action.succeeded"]
    assert done["action"] == "rollback" and done["target"]["service"] == "payments"
    assert done["reason"].startswith("automatic rollback: canary")
    assert done["actor"]["user"] == AUTO_ACTOR
    assert done["extra"]["db_role"] == team.role  # the store names the controller's role
    started = next(r for r in log if r["event_type"] == "controller.started")
    assert started["actor"]["user"] == CONTROLLER_USER
    assert started["extra"]["took_over_from"] is None
    assert controller.role == "stopping"
    await asyncio.sleep(0)
    assert wait_for(lambda: team.lease()[2] is not None, 5, "the lease ended") >= 0  # type: ignore[index]


def test_the_controller_leads_from_a_read_only_home_as_an_unprivileged_user(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    """What docs/deploy.md promises: nothing is written to the local disk (no HOME, no data
    or config folder it may write), as a systemd DynamicUser or a container's non-root user."""
    found = another_os_user()
    if found is None:
        pytest.skip("needs root to run the controller as another OS user")
    user, python, path = found
    team = make_team(pg_server, pg_url, tmp_path)
    # pytest's folders are root's own (0700): the other user gets a folder it may read.
    shared = Path(tempfile.mkdtemp(prefix="cockpit-ro-"))
    shared.chmod(0o755)
    config_file = shared / "controller.yaml"
    shutil.copy(team.config, config_file)
    config_file.chmod(0o644)
    readonly = shared / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    env = {**team.env(), "PYTHONPATH": path, "HOME": str(readonly)}
    env |= {f"XDG_{d}_HOME": str(readonly / d.lower()) for d in ("DATA", "CONFIG", "CACHE")}
    port, log = free_port(), tmp_path / "ro.log"
    proc = subprocess.Popen(
        [python, "-m", "cockpit", "-c", str(config_file), "controller", "--listen",
         f"127.0.0.1:{port}"],
        cwd="/", env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, user=user,
    )  # fmt: skip
    running = Running(proc, port, log)
    try:
        wait_for(running.leads, 60, f"the controller leads\n{running.tail()}")
        wait_for(
            lambda: "cockpit_connector_up" in running.get("/metrics")[1].decode(), 30, "a poll"
        )
    finally:
        code = running.stop()
        written = list(readonly.iterdir())
        shutil.rmtree(shared, ignore_errors=True)
    assert code == 0, running.tail()
    assert written == []
    assert "Traceback" not in running.tail() and "ERROR" not in running.tail()


def test_a_taken_listen_address_is_a_usage_error(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    import socket

    team = make_team(pg_server, pg_url, tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cockpit(
            "-c", str(team.config), "controller", "--listen", f"127.0.0.1:{port}", env=team.env()
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
