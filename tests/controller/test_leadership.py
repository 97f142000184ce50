"""A leader that loses its session stops acting and stands by; a store it cannot reach is a
503 on /healthz; a term that fails lets the lock go instead of holding it."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cockpit.controller import run
from cockpit.controller.run import Controller
from tests.controller.controller_kit import make_team
from tests.pgserver import PostgresServer
from tests.team.kit import store_for, until


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _terms(controller: Controller) -> float:
    value = controller.metrics.registry.get_sample_value(
        "cockpit_controller_leadership_terms_total"
    )
    return value or 0.0


async def test_a_leader_whose_session_ends_stops_acting_and_leads_again(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    team = make_team(pg_server, pg_url, tmp_path, retry="200ms")
    controller = Controller(team.settings(), host="127.0.0.1", port=0)
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    try:
        await until(lambda: controller.role == "leader", 30, "lead")
        first_hub = controller.term.hub if controller.term else None
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'cockpit-controller'"
            )
        # The next heartbeat fails: the term ends (its hub stops), then the lock is taken again.
        await until(lambda: _terms(controller) == 2 and controller.role == "leader", 30, "again")
        assert controller.term is not None and controller.term.hub is not first_hub
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    started = [r for r in team.records() if r["event_type"] == "controller.started"]
    assert len(started) == 2
    found = started[1]["extra"]["took_over_from"]
    assert found["pid"] == controller.actor.pid and found["ended"] is None  # its own, lost


async def test_healthz_is_503_while_the_team_store_cannot_be_reached(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    team = make_team(pg_server, pg_url, tmp_path)
    settings = team.settings()
    wrong = store_for(pg_url.replace("admin-secret", "not-the-password"))
    controller = Controller(replace(settings, store=wrong), host="127.0.0.1", port=0)
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    try:
        await until(lambda: bool(controller.claim.error), 30, "the store refuses the login")
        status, body = await asyncio.to_thread(_get, controller.server.port, "/healthz")
        assert status == 503
        state = json.loads(body)
        assert (
            state["role"] == "standby" and "password authentication failed" in state["store_error"]
        )
        assert b"not-the-password" not in body
        assert (await asyncio.to_thread(_get, controller.server.port, "/readyz"))[0] == 503
        status, metrics = await asyncio.to_thread(_get, controller.server.port, "/metrics")
        assert status == 200 and b"cockpit_controller_leader 0.0" in metrics
        # A standby answers no gate: the leader does.
        status, _ = await asyncio.to_thread(_get, controller.server.port, "/gate/flagger/x")
        assert status == 503
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


async def test_a_term_that_fails_lets_the_lock_go_and_leads_again(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = make_team(pg_server, pg_url, tmp_path, retry="200ms")
    real = run.Term.run
    calls: list[int] = []

    async def failing_once(self: Any, stop: asyncio.Event) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug in the term")
        return await real(self, stop)

    monkeypatch.setattr(run.Term, "run", failing_once)
    controller = Controller(team.settings(), host="127.0.0.1", port=0)
    stop = asyncio.Event()
    running = asyncio.create_task(controller.run(stop))
    try:
        await until(lambda: len(calls) == 2 and controller.role == "leader", 30, "leads again")
        assert not running.done()  # the process went on
        lease = team.lease()
        assert lease is not None and lease[1:] == (controller.actor.pid, None)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
