"""Hostile names, messages and errors from connectors never crash the cockpit (issue 9, part D).

The app is started as `cockpit` starts it: with polling on, so the hub's tasks, the first
frame wait and the workers all run; only the clock is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import Button, Input
from textual.worker import WorkerFailed

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connector import Capability, Connector
from cockpit.errors import Rejected
from cockpit.model import (
    Action,
    ActionKind,
    ActionResult,
    Deployment,
    DriftItem,
    DriftReport,
    Health,
    Observation,
    PipelineRun,
    Stage,
    Status,
)
from screens.base import FleetScreen
from screens.dialog import ActionDialog
from tests.app.helpers import FORBIDDEN, T0, Toasts, assert_alive, palette_hits, visible

HOSTILE_NAMES = (
    "svc[/]",
    "[@click=app.quit]x",
    "[bold]",
    "\x1b[2Jansi",
    "bidi\u202egnp.exe",
)
HOSTILE_ERROR = "422 Unprocessable: [/] [@click=app.quit]quit[/] [bold]"


@dataclass
class NoOptions:
    pass


class HostileFleet(Connector):
    """Reports services with attacker-chosen names; every action fails with a hostile message."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS, Capability.PIPELINES, Capability.DRIFT})
    ACTIONS = frozenset({ActionKind.SYNC})
    Options = NoOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        now = self.clock.now()
        deployments, runs, drift = [], [], []
        for i, name in enumerate(HOSTILE_NAMES):
            deployments.append(
                Deployment(
                    name,
                    "staging",
                    f"1.{i}{name}",
                    "sha256:0",
                    now - timedelta(hours=1),
                    name,
                    Status.SUCCEEDED,
                    Health.HEALTHY,
                    self.name,
                    now,
                )
            )
            runs.append(
                PipelineRun(
                    id=f"run{i}{name}",
                    service=name,
                    pipeline=name,
                    number=i,
                    status=Status.FAILED,
                    stages=(Stage(name, Status.FAILED),),
                    author=name,
                    commit="abc1234",
                    message=f"{name}\n{HOSTILE_ERROR}",
                    branch=name,
                    queued_at=now - timedelta(minutes=i),
                    source=self.name,
                    observed_at=now,
                )
            )
            drift.append(
                DriftReport(
                    name,
                    "staging",
                    f"rev{name}",
                    (DriftItem(f"Deployment/{name}", name, name, name),),
                    self.name,
                    now,
                )
            )
        return Observation(
            self.name, now, deployments=tuple(deployments), runs=tuple(runs), drift=tuple(drift)
        )

    async def execute(self, action: Action) -> ActionResult:
        raise Rejected(f"{action.service}: {HOSTILE_ERROR}")


class Broken(Connector):
    """Fails every poll with an error text that is itself markup."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    Options = NoOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        raise Rejected(HOSTILE_ERROR)


def live_app(tmp_path: Path) -> CockpitApp:
    """Started the way `cockpit` starts it (cli._tui): polling on."""
    base = config.load(None, env={})
    specs = (
        ConnectorSpec("hostile", "hostile", HostileFleet, NoOptions(), 10, 5, 30),
        ConnectorSpec("broken[/]", "broken", Broken, NoOptions(), 10, 5, 30),
    )
    settings = config.Settings(
        file="test",
        environments=base.environments,
        connectors=specs,
        keys={},
        ui=base.ui,
        audit=config.AuditConfig(str(tmp_path / "a.sqlite3")),
    )
    app = CockpitApp(settings, clock=FixedClock(T0))
    app.animation_level = "none"
    return app


async def test_hostile_names_and_errors_cross_every_view_palette_and_dialog(
    tmp_path: Path,
) -> None:
    app, toasts = live_app(tmp_path), Toasts()
    async with app.run_test(size=(160, 40), notifications=True, message_hook=toasts.hook) as pilot:
        await pilot.pause()
        assert app.hub.snapshot.sources["broken[/]"].ok is False
        assert "[/]" in app.hub.snapshot.sources["broken[/]"].error
        for key in "1234567":
            await pilot.press(key)
            await pilot.pause()
            assert_alive(app)
            assert not FORBIDDEN.search(visible(app))
        await pilot.press("1")
        await pilot.pause()
        shown = visible(app)
        assert "svc[/]" in shown and "[@click=app.quit]x" in shown and "[bold]" in shown
        assert "^[[2Jansi" in shown and "bidi<U+202E>gnp.exe" in shown

        # The palette offers an action on the selected (hostile) service, shown literally.
        overview = app.screen
        assert isinstance(overview, FleetScreen)
        for _ in HOSTILE_NAMES:
            await pilot.press("down")
            built = overview.build(ActionKind.SYNC)
            expected = (
                f"Action: Sync {built.service} in {built.environment}"
                if isinstance(built, Action)
                else f"{built} (key s)"
            )
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"sync")
            hits = await palette_hits(pilot, app)
            assert_alive(app)
            assert any(expected in hit for hit in hits), (expected, hits)
            await pilot.press("escape")
            await pilot.pause()

        # The dialog names the service; the failed action's hostile message is a notification.
        app.request_action(Action(ActionKind.SYNC, "svc[/]", "staging", source="hostile"))
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        assert "svc[/]" in visible(app)
        dialog.query_one("#reason", Input).focus()
        await pilot.press(*"hostile text test")
        button = dialog.query_one("#confirm-button", Button)
        button.focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert_alive(app)
        failed = [n for n in toasts if "[@click=app.quit]quit[/]" in n.message]
        assert failed and not failed[0].markup, toasts.text()
    assert app.return_code in (None, 0)


async def test_a_worker_that_raises_leaves_the_app_running(tmp_path: Path) -> None:
    app, toasts = live_app(tmp_path), Toasts()

    async def boom() -> None:
        raise RuntimeError("worker failed: [/] [@click=app.quit]x")

    async with app.run_test(size=(120, 30), message_hook=toasts.hook) as pilot:
        await pilot.pause()
        worker = app.run_worker(boom(), group="test", exit_on_error=False)
        with pytest.raises(WorkerFailed):
            await worker.wait()
        await pilot.pause()
        assert_alive(app)
        assert "worker failed: [/] [@click=app.quit]x" in toasts.text()


async def test_an_action_whose_plan_raises_leaves_the_app_running(tmp_path: Path) -> None:
    app, toasts = live_app(tmp_path), Toasts()

    class Unchanged:
        async def refresh(self) -> None:  # team mode reads the stored policy first
            return None

    class Exploding:
        policy = Unchanged()

        async def identify(self) -> str:  # team mode asks the store who acts first
            return ""

        def plan(self, action: Action) -> object:
            raise RuntimeError("plan failed: [/]")

    async with app.run_test(size=(120, 30), message_hook=toasts.hook) as pilot:
        await pilot.pause()
        app.__dict__["executor"] = Exploding()
        app.request_action(Action(ActionKind.SYNC, "svc[/]", "staging", source="hostile"))
        with pytest.raises(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert_alive(app)
        assert "plan failed: [/]" in toasts.text()


async def test_the_sources_panel_and_help_on_the_production_start_path(tmp_path: Path) -> None:
    """Polling on, as `cockpit` starts: ctrl+s shows the broken source's hostile error
    literally (its name holds `[/]` too) while polls keep arriving, and help opens over it."""
    from screens.help import HelpScreen
    from screens.sources import SourcesScreen

    app = live_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SourcesScreen)
        await app.hub.refresh()  # a poll lands while the panel is open
        await pilot.pause()
        shown = visible(app)
        assert "broken[/]" in shown and "[@click=app.quit]" in shown
        assert not FORBIDDEN.search(shown)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert_alive(app)
        await pilot.press("escape")
        await pilot.pause()
        assert_alive(app)
