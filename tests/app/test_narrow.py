"""Every view at 80x24 keeps its essential columns; optional ones drop first, then text is cut."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.audit.events import Actor, AuditEvent, EventType, Target
from cockpit.clock import FixedClock
from screens.columns import FLEX_MIN, PAD, fit_columns
from screens.table import LiveTable
from tests.app.helpers import T0

SMALL = (80, 24)
WIDE = (120, 36)
ALL_CANARY = ["Service", "Env", "Baseline → canary", "Step", "Weight", "Phase", "Verdict"]
REASON = "p99 latency doubled right after 1.5.14 reached 25% of prod traffic"


def app_in(tmp_path: Path) -> CockpitApp:
    """The seed 7 demo with its own audit log, so the audit view shows only this test's records."""
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(settings, audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")))
    actor = Actor(user="alice", host="testhost", ssh_client="", pid=4242, version="test")
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False, actor=actor)
    app.animation_level = "none"
    return app


async def table_in_view(app: CockpitApp, pilot, key: str, table_id: str) -> LiveTable:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen.query_one(f"#{table_id}", LiveTable)


# view key, table id, labels that must stay at 80x24, a row key and text it must show whole
ESSENTIAL = [
    ("1", "matrix", ["Service", "dev", "staging", "PROD"], "checkout", "1.5.11 ✓ ⇢25%"),
    ("2", "runs", ["Run", "Status", "Message"], None, None),
    ("3", "deployments", ["Service", "Version", "Health", "Deployed"], "auth", "✓ healthy"),
    ("4", "canaries", ["Service", "Env", "Verdict"], "checkout/prod", "pass 100"),
    ("5", "items", ["Resource", "Desired (Git)", "Live"], None, None),
    ("6", "approvals", ["Waiting for approval", "Env", "Waiting", "Approvals"], None, None),
]


@pytest.mark.parametrize(("key", "table_id", "labels", "row", "whole"), ESSENTIAL)
async def test_each_view_keeps_its_essential_columns_at_80x24(
    tmp_path: Path, key: str, table_id: str, labels: list[str], row: str | None, whole: str | None
) -> None:
    app = app_in(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        table = await table_in_view(app, pilot, key, table_id)
        shown = table.shown_labels
        assert [label for label in labels if label not in shown] == []
        assert table.virtual_size.width <= table.scrollable_content_region.width, "no sideways"
        if row is not None and whole is not None:
            assert whole in table.row_plain(row)


async def test_pipelines_at_80x24_show_status_service_and_the_message_start(
    tmp_path: Path,
) -> None:
    app = app_in(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        table = await table_in_view(app, pilot, "2", "runs")
        newest = app.snapshot.runs_newest_first()[0]
        line = table.row_plain(newest.id)
        assert newest.id in line and newest.status.value in line
        assert newest.message.splitlines()[0][: FLEX_MIN - 1] in line


async def test_drift_at_80x24_shows_desired_beside_live(tmp_path: Path) -> None:
    app = app_in(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        table = await table_in_view(app, pilot, "5", "items")
        report = sorted(
            (r for r in app.snapshot.drift if r.items), key=lambda r: (r.environment, r.service)
        )[0]
        item = report.items[0]
        cells = table.row_plain("0").split()
        assert item.desired in cells and item.live in cells


async def test_audit_at_80x24_shows_time_action_outcome_and_the_reason_start(
    tmp_path: Path,
) -> None:
    app = app_in(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        actor = app.actor
        target = Target("checkout", "prod", "1.5.14", "1.5.11")
        await app.journal.append(
            AuditEvent(
                EventType.ACTION_SUCCEEDED, actor, target, "rollback", "succeeded", reason=REASON
            )
        )
        table = await table_in_view(app, pilot, "7", "audit-records")
        assert table.shown_labels[:4] == ["UTC", "Event", "Outcome", "Reason"]
        line = next(
            table.row_plain(k) for k in table.keys if "action.succeeded" in table.row_plain(k)
        )
        assert "03:00:00" in line and "succeeded" in line and REASON[:FLEX_MIN] in line


async def test_optional_columns_come_back_at_120x36(tmp_path: Path) -> None:
    app = app_in(tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        runs = await table_in_view(app, pilot, "2", "runs")
        assert {"Took", "Author", "Commit", "Stage"} <= set(runs.shown_labels)
        canaries = await table_in_view(app, pilot, "4", "canaries")
        assert canaries.shown_labels == ALL_CANARY
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        assert "Step" not in canaries.shown_labels and "Verdict" in canaries.shown_labels


def test_optional_columns_drop_in_order_before_any_column_is_cut() -> None:
    # widths of: name, flexible message, optional a, optional b
    widths, flexible = [10, 40, 6, 6], [False, True, False, False]
    assert fit_columns(widths, flexible, [2, 3], 200) == [(0, 10), (1, 40), (2, 6), (3, 6)]
    # Room for the message at FLEX_MIN beside b but not a: a (first in order) drops first.
    room = 10 + FLEX_MIN + 6 + 3 * 2 * PAD
    assert fit_columns(widths, flexible, [2, 3], room) == [(0, 10), (1, FLEX_MIN), (3, 6)]


def test_the_widest_column_shrinks_only_when_no_optional_one_is_left() -> None:
    widths, flexible = [10, 40, 6], [False, True, False]
    room = 10 + 12 + 6 + 3 * 2 * PAD
    assert fit_columns(widths, flexible, [], room) == [(0, 10), (1, 12), (2, 6)]
    # Narrower still: the widest ones level down together.
    assert fit_columns(widths, flexible, [], room - 6) == [(0, 8), (1, 8), (2, 6)]
    # Nothing fits even at three cells a column: the table keeps them and scrolls sideways.
    assert [w for _, w in fit_columns(widths, flexible, [], 4)] == [3, 3, 3]
