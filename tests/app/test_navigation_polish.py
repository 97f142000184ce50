"""Pilot tests for issue 10's navigation polish: j/k, the filter line, the audit record,
jumping to a service from the palette, honest overview cells, canary history, NO_COLOR."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Checkbox, Label, OptionList, Static

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.audit.events import Actor, AuditEvent, EventType, Target
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.fleet.snapshot import Changes, FleetSnapshot
from screens.audit_record import AuditRecordScreen
from screens.dialog import ActionDialog
from screens.filter import FilterLine
from screens.help import HelpScreen
from screens.jump import ServiceJump
from screens.scroll import ScrollBox
from screens.service import ServiceScreen
from screens.sources import SourcesScreen
from screens.widgets import LiveTable
from tests.app.helpers import T0, demo_app


def table(app: CockpitApp, selector: str) -> LiveTable:
    return app.screen.query_one(selector, LiveTable)


@pytest.mark.parametrize(
    ("view", "selector"),
    [
        ("1", "#matrix"),
        ("2", "#runs"),
        ("3", "#deployments"),
        ("4", "#canaries"),
        ("5", "#reports"),
        ("6", "#approvals"),
        ("7", "#audit-records"),
    ],
)
async def test_j_and_k_move_the_cursor_like_down_and_up(view: str, selector: str) -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(view)
        await pilot.pause()
        rows = table(app, selector)
        assert len(rows.keys) >= 2, "the demo shows at least two rows in every view"
        rows.focus()
        rows.move_cursor(row=0)
        await pilot.press("j")
        assert rows.cursor_row == 1
        await pilot.press("k")
        assert rows.cursor_row == 0
        await pilot.press("down", "up")
        assert rows.cursor_row == 0


async def test_j_and_k_scroll_the_help_and_the_sources_panel() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one(ScrollBox)
        assert box.has_focus and box.max_scroll_y > 0
        await pilot.press("j", "j")
        assert box.scroll_y == 2
        await pilot.press("k")
        assert box.scroll_y == 1
        await pilot.press("escape", "ctrl+s")
        assert isinstance(app.screen, SourcesScreen)
        assert app.screen.query_one(ScrollBox).has_focus


async def test_j_and_k_type_into_the_filter_and_do_not_move_the_cursor() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        runs = table(app, "#runs")
        row = runs.cursor_row
        await pilot.press("slash", "j", "k")
        assert app.screen.filter_text == "jk"  # type: ignore[attr-defined]
        assert runs.cursor_row == row


def with_verdict(
    snap: FleetSnapshot,
    service: str,
    env: str,
    decision: str,
    score: float,
    at: datetime | None = None,
) -> FleetSnapshot:
    """The snapshot with one canary judged `decision`, as the hub would publish it next."""
    cell = snap.cell(service, env)
    assert cell.canary is not None and cell.canary.verdict is not None
    verdict = replace(cell.canary.verdict, decision=decision, score=score)
    if at is not None:
        verdict = replace(verdict, observed_at=at)
    canary = replace(cell.canary, verdict=verdict)
    cells = {**snap.cells, (service, env): replace(cell, canary=canary)}
    canaries = tuple(canary if c.key == (service, env) else c for c in snap.canaries)
    return replace(
        snap,
        generation=snap.generation + 1,
        cells=cells,
        canaries=canaries,
        changes=Changes(everything=True),
    )


@pytest.mark.parametrize(
    ("decision", "glyph", "colour"),
    [("fail", "✗", "red"), ("marginal", "!", "yellow"), ("pass", "✓", "cyan")],
)
async def test_overview_cell_shows_a_failing_canary_as_x_and_a_marginal_one_as_degrading(
    decision: str, glyph: str, colour: str
) -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        snap = with_verdict(app.hub.snapshot, "checkout", "prod", decision, 42.0)
        app.screen.show(snap)  # type: ignore[attr-defined]
        await pilot.pause()
        matrix = table(app, "#matrix")
        cell = matrix.row("checkout")[matrix.column_keys.index("prod")]
        version = snap.cell("checkout", "prod").deployment.version  # type: ignore[union-attr]
        assert cell.plain.startswith(f"{version} {glyph} ⇢25%")
        if decision != "pass":
            assert "✓" not in cell.plain, "a canary that is not passing never reads ✓"
        assert any(
            colour in str(span.style)
            for span in cell.spans
            if "⇢" in cell.plain[span.start : span.end]
        )
        legend = str(app.screen.query_one("#legend", Static).render())
        assert "✗ degraded or canary failing" in legend and "! canary degrading" in legend


def filter_line_text(app: CockpitApp) -> str:
    """The filter line as the operator reads it: label, what was typed, the count."""
    line = app.screen.query_one(FilterLine)
    assert line.display, "the filter line is visible"
    label = str(line.query_one("#filter-label", Label).render())
    count = str(line.query_one("#filter-count", Label).render())
    return f"{label}{line.bar.value}{count}"


async def test_the_filter_line_shows_what_was_typed_and_the_count_and_stays_after_enter() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        total = len(app.hub.snapshot.runs)
        await pilot.press("slash", *"search")
        shown = len(table(app, "#runs").keys)
        assert 0 < shown < total
        assert filter_line_text(app) == f"filter: search · {shown} of {total}"
        await pilot.press("enter")
        assert table(app, "#runs").has_focus
        assert filter_line_text(app) == f"filter: search · {shown} of {total}"
        await pilot.press("escape")
        assert not app.screen.query_one(FilterLine).display
        assert len(table(app, "#runs").keys) == total


async def test_an_empty_filter_result_says_no_match_not_nothing_waiting() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("6")
        waiting = len(table(app, "#approvals").keys)
        assert waiting > 0
        await pilot.press("slash", *"zzz", "enter")
        assert table(app, "#approvals").keys == []
        detail = str(app.screen.query_one("#approval-detail", Static).render())
        assert "no match for “zzz”" in detail and "Nothing is waiting" not in detail
        assert filter_line_text(app).startswith(f"filter: zzz · no match in {waiting}")


HOSTILE = "[bold red]pwn[/]\x1b[2J"


async def audit_view(app: CockpitApp, pilot: Pilot[int]) -> LiveTable:
    await pilot.press("7")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return table(app, "#audit-records")


async def newest_seq(app: CockpitApp) -> int:
    def newest(store: Any) -> int:
        return int(next(iter(store.records(newest_first=True, limit=1))).seq)

    return await app.journal.call(newest)


async def test_the_audit_read_record_never_takes_the_cursor() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        before = await newest_seq(app)
        records = await audit_view(app, pilot)
        read = await newest_seq(app)
        assert read == before + 1, "the visit was recorded"
        assert records.keys[0] == str(read)
        assert records.current_key() == str(before), "the cursor is on the log as it was"
        records.move_cursor(row=5)
        left_on = records.current_key()
        await pilot.press("1")
        records = await audit_view(app, pilot)  # a second visit, a second audit.read
        assert records.keys[0] == str(read + 1)
        assert records.current_key() == left_on
        await app.record_audit_read()  # a record arriving while the operator reads
        await app.screen._load(record_access=False)  # type: ignore[attr-defined]
        assert records.keys[0] == str(read + 2)
        assert records.current_key() == left_on


async def test_enter_in_the_audit_view_opens_the_full_record_cleaned() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        actor = Actor(
            user="ops" + HOSTILE,
            host="jump",
            ssh_client="203.0.113.9 50000 22",
            pid=42,
            version="t",
            principal="ops@example.com",
            signature="-----BEGIN SSH SIGNATURE-----",
            key_fingerprint="SHA256:abc",
            key_type="sk-ssh-ed25519@openssh.com",
        )
        event = AuditEvent(
            EventType.ACTION_SUCCEEDED,
            actor,
            Target("checkout", "prod", "2.4.7", "2.4.8", "sha256:d1", "demo", "r-1"),
            "rollback",
            "succeeded",
            reason="error rate up " + HOSTILE,
            ticket="INC-7",
            evidence={
                "gates": [{"name": "canary", "status": "fail", "evidence": "score 12 " + HOSTILE}],
                "verdict": {"decision": "fail", "score": "12.00", "metrics": []},
                "alert": {"name": "HighErrorRate" + HOSTILE, "severity": "critical"},
            },
            policy={"decision": "allowed", "reasons": []},
            request_id="req-1",
        )
        written = await app.journal.append(event)
        records = await audit_view(app, pilot)
        records.move_cursor(row=records.keys.index(str(written.seq)))
        await pilot.press("enter")
        assert isinstance(app.screen, AuditRecordScreen)
        shown = app.screen.query_one("#audit-record", Static).render()
        text = str(shown)
        for expected in (
            f"Audit record #{written.seq}",
            "reason    error rate up [bold red]pwn[/]^[[2J",
            "ticket    INC-7",
            "outcome   succeeded",
            "target    checkout in prod",
            "2.4.7 → 2.4.8",
            "from      SSH 203.0.113.9 50000 22",
            "signed by ops@example.com key SHA256:abc",
            "fail    canary: score 12 [bold red]pwn[/]^[[2J",
            "verdict fail score 12.00",
            "HighErrorRate[bold red]pwn[/]^[[2J",
            f"hash      {written.hash}",
            f"previous  {written.prev_hash}",
        ):
            assert expected in text, expected
        assert "\x1b" not in text
        await pilot.press("escape")
        assert app.current_mode == "audit" and not isinstance(app.screen, AuditRecordScreen)


async def test_the_palette_jumps_to_a_service_by_name() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "ctrl+p", *"payments")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await app.workers.wait_for_complete()
        await pilot.pause()
        options = palette.query_one(OptionList)
        titles = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        envs = [e.name for e in app.hub.snapshot.environments]
        for env in envs:
            assert any(t.startswith(f"Go to payments in {env}") for t in titles), titles
        target = next(i for i, t in enumerate(titles) if t.startswith("Go to payments in staging"))
        options.highlighted = target
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ServiceScreen)
        assert (app.screen.service, app.screen.environment) == ("payments", "staging")


async def test_a_service_named_like_markup_is_offered_as_plain_text() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)):
        snap = app.hub.snapshot
        hostile = "pay[/]ments[bold]\x1b[2J"
        cell = replace(snap.cell("payments", "prod"), service=hostile)
        app.hub.snapshot = replace(
            snap, services=(*snap.services, hostile), cells={**snap.cells, (hostile, "prod"): cell}
        )
        provider = ServiceJump(app.screen)
        hits = [hit async for hit in provider.search("pay[/]ments")]
        mine = [h for h in hits if h.text and "[bold]" in h.text]
        assert [h.text for h in mine] == ["Go to pay[/]ments[bold]^[[2J in prod"]
        assert isinstance(mine[0].match_display, Text)
        assert mine[0].match_display.plain == mine[0].text
        assert "pay[/]" not in (mine[0].help or "")


NIGHT_CLOSED: dict[str, Any] = {
    "windows": [
        {
            "name": "business-hours",
            "schedule": "0 9 * * 1-5",
            "duration": "8h",
            "environments": ["prod"],
        }
    ],
    "environments": {"prod": {"unknown_gates": "warn"}},
}


async def test_no_color_shows_prod_reversed_and_checkboxes_as_brackets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, NIGHT_CLOSED),
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
    )
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False)
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.no_color
        matrix = table(app, "#matrix")
        header = matrix.render_line(0)
        prod = [seg for seg in header if "PROD" in seg.text]
        assert prod and all(seg.style is not None and seg.style.reverse for seg in prod)
        matrix.move_cursor(row=matrix.keys.index("cart"), column=matrix.column_keys.index("prod"))
        await pilot.press("b")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        glass = dialog.query_one("#glass", Checkbox)
        assert str(glass.render()).startswith("[ ] Break glass")
        glass.value = True
        await pilot.pause()
        assert str(glass.render()).startswith("[x] Break glass")


async def test_the_canary_view_keeps_the_last_verdicts_after_the_canary_is_gone() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        snap = app.hub.snapshot
        for i, (decision, score) in enumerate(
            [
                ("pass", 97),
                ("pass", 90),
                ("marginal", 61),
                ("marginal", 55),
                ("fail", 30),
                ("fail", 12),
            ]
        ):
            at = T0 + timedelta(seconds=30 * i)
            app.verdicts.observe(with_verdict(snap, "checkout", "prod", decision, score, at))
        kept = app.verdicts.last("checkout", "prod")
        assert [j.score for j in kept] == [90, 61, 55, 30, 12], "the last five, oldest first"
        # Rolled back: no source reports the canary any more.
        gone = replace(
            snap,
            generation=snap.generation + 1,
            canaries=tuple(c for c in snap.canaries if c.key != ("checkout", "prod")),
            changes=Changes(everything=True),
        )
        app.hub.snapshot = gone
        screen = app.screen
        screen.show(gone)  # type: ignore[attr-defined]
        await pilot.pause()
        canaries = table(app, "#canaries")
        assert "checkout/prod" in canaries.keys
        row = canaries.cell_texts("checkout/prod")
        assert row[0] == "checkout" and row[5] == "ended" and row[6] == "fail 12"
        canaries.move_cursor(row=canaries.keys.index("checkout/prod"))
        await pilot.pause()
        detail = str(screen.query_one("#canary-detail", Static).render())
        assert "no longer reported" in detail
        assert "last verdicts: fail 12" in detail and "marginal 61" in detail
        assert "pass 97" not in detail, "bounded to five"
        await pilot.press("b")
        await pilot.pause()
        assert not isinstance(app.screen, ActionDialog), "no action falls through to another canary"


async def test_the_full_audit_record_on_the_production_start_path(tmp_path: Path) -> None:
    """Polling on, a real log file: Enter on the newest record shows it in full."""
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(settings, audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")))
    app = CockpitApp(settings, clock=FixedClock(T0))  # poll=True
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        records = await audit_view(app, pilot)
        assert records.keys, "app.start and this visit are recorded"
        records.focus()
        await pilot.press("k", "enter")
        assert isinstance(app.screen, AuditRecordScreen)
        text = str(app.screen.query_one("#audit-record", Static).render())
        assert f"Audit record #{records.current_key()}" in text
        assert "identity  unsigned" in text and "hash      " in text
        await pilot.press("escape")
        assert app.current_mode == "audit"
