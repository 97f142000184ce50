"""A TUI in team mode: the top bar says which controller leads (or that none does), and a
failing canary that policy rolls back automatically is left to that controller."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.controller.lease import Claim
from cockpit.model import CanaryPhase
from screens.widgets import TopBar
from tests.app.helpers import Toasts, degrade
from tests.controller.controller_kit import Team, make_team
from tests.fakes import T0
from tests.pgserver import PostgresServer
from tests.team.kit import store_for


def _top(app: CockpitApp) -> str:
    app.screen.refresh_header(app.snapshot)  # type: ignore[attr-defined]
    return app.screen.query_one(TopBar).content.plain  # type: ignore[union-attr]


def _claim(team: Team) -> Claim:
    settings = team.settings()
    assert settings.store is not None
    return Claim(settings.store, settings.controller, host="ctl-host-1", pid=4242, version="t")


async def test_the_top_bar_names_the_leading_controller_or_says_none(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    team = make_team(pg_server, pg_url, tmp_path)
    app = CockpitApp(team.settings(), poll=False, clock=FixedClock(T0))
    app.animation_level = "none"
    async with app.run_test(size=(160, 36)) as pilot:
        await pilot.pause()
        assert "controller: reading" in _top(app)
        await app._read_controller()  # what the app's timer does every CONTROLLER_EVERY
        assert "controller: none" in _top(app)  # no controller ever led this store
        claim = _claim(team)
        assert await claim.try_once()
        await app._read_controller()
        top = _top(app)
        assert "controller: ctl-host-1, since " in top and "controller: none" not in top
        await claim.release()  # a clean stop ends the lease
        await app._read_controller()
        assert "controller: none" in _top(app)


async def test_a_stale_heartbeat_or_an_unreadable_store_is_no_controller(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    team = make_team(pg_server, pg_url, tmp_path)
    settings = team.settings()
    claim = _claim(team)
    assert await claim.try_once()
    try:
        import psycopg

        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "UPDATE cockpit.controller_lease SET heartbeat = now() - interval '1 minute'"
            )
        app = CockpitApp(settings, poll=False, clock=FixedClock(T0))
        app.animation_level = "none"
        async with app.run_test(size=(160, 36)) as pilot:
            await pilot.pause()
            await app._read_controller()
            assert "controller: none" in _top(app)  # a minute without a heartbeat: dead
        wrong = store_for(pg_url.replace("admin-secret", "not-the-password"))
        from dataclasses import replace

        app = CockpitApp(replace(settings, store=wrong), poll=False, clock=FixedClock(T0))
        app.animation_level = "none"
        async with app.run_test(size=(160, 36)) as pilot:
            await pilot.pause()
            await app._read_controller()
            seen = app.controller_lease()
            assert seen is not None and seen.error and "not-the-password" not in seen.error
            assert "controller: unknown" in _top(app)  # fail closed: never taken as live
    finally:
        await claim.release()


async def test_in_team_mode_the_tui_leaves_automatic_rollback_to_the_controller(
    pg_server: PostgresServer, pg_url: str, tmp_path: Path
) -> None:
    team = make_team(pg_server, pg_url, tmp_path)
    clock = FixedClock(T0)
    app = CockpitApp(team.settings(), poll=False, clock=clock)
    app.animation_level = "none"
    toasts = Toasts()
    async with app.run_test(size=(120, 36), message_hook=toasts.hook) as pilot:
        await degrade(app, clock, pilot)
        await asyncio.sleep(0)
        canary = app.hub.snapshot.cell("payments", "prod").canary
        assert canary is not None and canary.phase is not CanaryPhase.ABORTED
        assert canary.phase.active, "no TUI rolls it back in team mode"
        assert app.banner is None  # automatic: not a person's to press B for
        assert any("controller rolls it back" in t.message for t in toasts)
    kinds = [r["event_type"] for r in team.records()]
    assert "action.requested" not in kinds and "verdict.recorded" not in kinds
