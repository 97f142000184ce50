"""The Incident view (key 8): alerts beside what changed, rollback and silence with the alert
as evidence, incidents opened and closed, hostile alert text shown literally."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.widgets import Input, Static

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.audit import EventType
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connector import Capability, Connector
from cockpit.model import Alert, Observation, Severity
from screens.dialog import ActionDialog
from screens.incident import IncidentScreen
from screens.incident_form import IncidentForm
from screens.widgets import LiveTable
from tests.app.helpers import FORBIDDEN, T0, Toasts, actor, app_with, assert_alive, records, visible

HOSTILE = "[bold]x[/bold] [@click=app.quit]q[/] \x1b[2J\x07bell"


async def open_view(pilot: Any, app: CockpitApp) -> IncidentScreen:
    await pilot.press("8")
    await pilot.pause()
    await app.workers.wait_for_complete()  # the audit log read
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, IncidentScreen)
    return screen


def rows(screen: IncidentScreen, table: str) -> list[str]:
    """Each row of a table as the text its cells show, joined by '|'."""
    live = screen.query_one(f"#{table}", LiveTable)
    return ["|".join(live.cell_texts(k)) for k in live.keys]


def shown(screen: IncidentScreen, widget: str) -> str:
    return str(screen.query_one(f"#{widget}", Static).content)


async def tick(pilot: Any, app: CockpitApp, clock: FixedClock, seconds: float) -> None:
    """Let demo time pass and the app take in the poll that shows it."""
    clock.advance(seconds)
    await app.hub.refresh()
    while getattr(app.screen, "generation", None) != app.hub.snapshot.generation:
        await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def confirm(pilot: Any, app: CockpitApp, reason: str) -> ActionDialog:
    """Type the reason into the focused field (the dialog opens there) and press Enter."""
    dialog = app.screen
    assert isinstance(dialog, ActionDialog)
    await pilot.press(*reason)
    if dialog.query("#confirm"):  # where policy asks for the service name typed
        dialog.query_one("#confirm", Input).value = dialog.plan.confirmation_word
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return dialog


async def test_the_view_on_the_production_start_path_shows_alerts_and_the_marked_suspect(
    tmp_path: Path,
) -> None:
    """Polling on, as `cockpit` starts: key 8 lists the firing alerts, most severe and
    newest first, the search alert's suspect (its prod deploy 8 minutes before) marked and
    selected; a later poll brings the payments alert in live, the cursor staying put."""
    clock = FixedClock(T0)
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(settings, audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")))
    app = CockpitApp(settings, clock=clock, actor=actor("alice"))  # poll=True
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = await open_view(pilot, app)
        alerts = rows(screen, "incident-alerts")
        assert alerts == [
            "crit|12m|search|prod|HighErrorRate|",
            "warn|47m|ledger|prod|DiskFillingUp|",
        ]
        assert "before HighErrorRate on search/prod (02:48 UTC)" in shown(screen, "incident-for")
        changes = rows(screen, "incident-changes")
        assert changes[0] == "▶ suspect|8m|deploy|search/prod|deployed 1.2.12 (was 1.2.11)"
        assert not any("suspect" in row for row in changes[1:])
        # A run that deployed nowhere is the service's, shown without a dangling "/".
        assert "|18m|pipeline|search|pipeline release #741 failed (1.2.14)" in changes
        assert screen.query_one("#incident-changes", LiveTable).cursor_row == 0
        assert "same service and environment, 8 min before" in shown(screen, "incident-detail")
        assert "No incident open" in shown(screen, "incident-state")

        for _ in range(4):  # the payments canary steps on; then its errors page someone
            await tick(pilot, app, clock, 55)
        alerts = rows(screen, "incident-alerts")
        assert alerts[0].startswith("crit|") and "|payments|prod|HighErrorRate|" in alerts[0]
        assert screen.selected_alert().service == "search", "the cursor stays on its alert"  # type: ignore[union-attr]
        await pilot.press("up")
        await pilot.pause()
        changes = rows(screen, "incident-changes")
        # A canary's steps carry no time of their own: the app's recorder saw them move,
        # poll by poll; the last one before the errors is the top suspect.
        assert changes[0] == (
            "▶ suspect|<1m|canary|payments/prod|canary 2.7.15 step 3/6 → 4/6, weight 25% → 50%"
        )
        assert any(
            "|canary|payments/prod|canary 2.7.15 started against 2.7.12" in r for r in changes
        )
        assert_alive(app)


async def test_b_rolls_back_the_suspect_with_the_alert_as_evidence(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    app = app_with(tmp_path, clock=clock)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_view(pilot, app)
        await pilot.press("b")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        action = dialog.plan.action
        assert (action.kind.value, action.service, action.environment) == (
            "rollback",
            "search",
            "prod",
        )
        assert (action.from_version, action.version) == ("1.2.12", "1.2.11")
        await confirm(pilot, app, "errors since the 02:40 deploy")
        assert app.screen is screen
        await tick(pilot, app, clock, 61)  # the error ratio falls back under its threshold
        assert [r.split("|")[2] for r in rows(screen, "incident-alerts")] == ["ledger"]
    done = [r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED]
    assert len(done) == 1 and done[0].action == "rollback"
    assert done[0].target.service == "search" and done[0].target.to_version == "1.2.11"
    alert = done[0].evidence["alert"]
    assert (alert["name"], alert["severity"], alert["service"]) == (
        "HighErrorRate",
        "critical",
        "search",
    )
    assert alert["fingerprint"] and alert["started_at"] == "2026-11-26T02:48:00+00:00"
    suspect = done[0].evidence["suspect"]
    assert suspect["rank"] == 1 and suspect["kind"] == "deploy"
    assert suspect["why"] == "same service and environment, 8 min before"


async def test_S_silences_the_selected_alert_for_the_duration_typed(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        screen = await open_view(pilot, app)
        await pilot.press("S")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        duration = dialog.query_one("#duration", Input)
        assert duration.value == "2h", "two hours unless the operator says otherwise"
        duration.value = "soon"
        await pilot.pause()
        assert "not like 30m, 1h, 2h or 4h" in str(dialog.query_one("#dialog-why", Static).content)
        duration.value = "30m"
        dialog.query_one("#reason", Input).focus()
        await confirm(pilot, app, "known: search deploy, rolling back")
        assert app.screen is screen
        assert rows(screen, "incident-alerts")[0] == "crit|12m|search|prod|HighErrorRate|silenced"
    done = [r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED]
    assert len(done) == 1 and done[0].action == "silence"
    assert done[0].evidence["alert"]["name"] == "HighErrorRate"
    assert done[0].evidence["silence"] == {"duration": "30m"}
    alert = app.hub.snapshot.alerts[0]
    assert alert.service == "search" and alert.silenced


async def test_o_opens_and_c_closes_an_incident_in_the_audit_log(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    app = app_with(tmp_path, clock=clock)
    toasts = Toasts()
    async with app.run_test(size=(120, 36), message_hook=toasts.hook) as pilot:
        screen = await open_view(pilot, app)
        await pilot.press("c")
        await pilot.pause()
        assert "Close incident: no incident is open" in toasts.text()
        await pilot.press("o")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, IncidentForm)
        assert form.query_one("#title", Input).value == "HighErrorRate on search/prod"
        await pilot.press("tab", *"CHG-7", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        await tick(pilot, app, clock, 14 * 60)
        state = shown(screen, "incident-state")
        assert state.startswith("INC-") and "open 14 min: HighErrorRate on search/prod" in state
        assert "CHG-7" in state
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, IncidentForm)
        await pilot.press(*"rolled back", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "No incident open" in shown(screen, "incident-state")
    log = records(app)
    opened = [r for r in log if r.event_type == EventType.INCIDENT_OPENED]
    closed = [r for r in log if r.event_type == EventType.INCIDENT_CLOSED]
    assert len(opened) == 1 and len(closed) == 1
    assert opened[0].extra["title"] == "HighErrorRate on search/prod"
    assert opened[0].ticket == "CHG-7" and opened[0].actor.user == "alice"
    assert opened[0].target.service == "search" and opened[0].target.environment == "prod"
    assert closed[0].extra["incident"] == f"INC-{opened[0].seq}"
    assert closed[0].reason == "rolled back"


@dataclass
class NoOptions:
    pass


class HostileAlerts(Connector):
    """Alerts whose every text is markup and terminal control characters."""

    CAPABILITIES = frozenset({Capability.ALERTS})
    Options = NoOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        now = self.clock.now()
        alert = Alert(
            name=f"Alert{HOSTILE}",
            service=f"svc{HOSTILE}",
            environment="prod",
            severity=Severity.CRITICAL,
            state="firing",
            summary=HOSTILE,
            started_at=now - timedelta(minutes=1),
            source=self.name,
            observed_at=now,
            fingerprint=f"fp{HOSTILE}",
        )
        return Observation(self.name, now, alerts=(alert,))


async def test_hostile_alert_text_renders_literally(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    spec = ConnectorSpec("hostile", "hostile", HostileAlerts, NoOptions(), 10, 5, 30)
    app.hub = type(app.hub)(
        [*app.settings.connectors, spec], app.settings.environments, clock=app.clock
    )
    app.hub.subscribe(app.recorder.observe)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(pilot, app)
        assert screen.selected_alert().source == "hostile"  # type: ignore[union-attr]
        text = visible(app)
        assert "[bold]x[/bold]" in text and "[@click=app.quit]q[/]" in text
        assert not FORBIDDEN.search(text)
        await pilot.press("o")  # the form takes the alert's name as the title, literally
        await pilot.pause()
        assert "[bold]x[/bold]" in app.screen.query_one("#title", Input).value
        assert not FORBIDDEN.search(app.screen.query_one("#title", Input).value)
        await pilot.press("escape")
        await pilot.pause()
        assert_alive(app)


async def test_tab_moves_to_what_changed_and_the_cursor_picks_another_change(
    tmp_path: Path,
) -> None:
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(pilot, app)
        await pilot.press("tab", "down")
        await pilot.pause()
        assert screen.focused is not None and screen.focused.id == "incident-changes"
        picked = screen.selected_suspect()
        assert picked is not None and picked[0] == 1, "the second change is selected"
        assert "3m|pipeline|search/prod" in rows(screen, "incident-changes")[1]
        assert screen.selected_alert().service == "search"  # type: ignore[union-attr]


async def test_the_palette_offers_opening_an_incident_and_says_why_close_is_not_here(
    tmp_path: Path,
) -> None:
    from textual.command import CommandPalette

    from tests.app.helpers import palette_hits

    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_view(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"incident")
        hits = await palette_hits(pilot, app)
        assert any(h.startswith("Incident: Open incident") for h in hits), hits
        close = next(h for h in hits if h.startswith("Incident: Close incident"))
        assert "no incident is open (key c)" in close


async def test_each_visit_records_one_audit_read_of_the_log_it_shows(tmp_path: Path) -> None:
    """ "What changed" is read from the audit log: each visit is recorded like the Audit view's,
    once per visit however often the view reloads."""
    app = app_with(tmp_path)
    clock = app.clock
    assert isinstance(clock, FixedClock)

    def reads() -> list[str]:
        return [r.extra.get("view") for r in records(app) if r.event_type == EventType.AUDIT_READ]

    async with app.run_test(size=(120, 36)) as pilot:
        await open_view(pilot, app)
        await tick(pilot, app, clock, 30)  # refreshes reload the log: no new record
        assert reads() == ["incident"]
        await pilot.press("1")
        await open_view(pilot, app)
        assert reads() == ["incident", "incident"]
