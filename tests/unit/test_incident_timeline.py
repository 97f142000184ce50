"""The timeline's three figures as defined in docs/incidents.md, and markdown that pastes safely."""

from __future__ import annotations

from pathlib import Path

from cockpit.audit import EventType
from cockpit.clock import FixedClock
from cockpit.incident import render
from cockpit.incident.incidents import open_incident
from cockpit.incident.recorder import SeenAlert
from cockpit.incident.timeline import Timeline, build
from tests.unit.incident_kit import ALICE, T0, action_record, alert, minutes, snapshot, store

SINCE, UNTIL = T0 - minutes(120), T0 + minutes(60)


def figures(t: Timeline) -> list[float | None]:
    return [f.seconds for f in t.figures]


def test_without_an_alert_every_figure_is_unknown_never_zero(tmp_path: Path) -> None:
    log = store(tmp_path, FixedClock(T0))
    action_record(log, "rollback")
    t = build(snapshot(), list(log.records()), since=SINCE, until=UNTIL)
    assert figures(t) == [None, None, None]
    assert "Time to detect: unknown (no alert started in the period)" in render.markdown(t)


def test_detect_is_the_earlier_of_the_incident_opening_and_the_first_action(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0 - minutes(30))
    log = store(tmp_path, clock)
    action_record(log, "promote", event=EventType.ACTION_SUCCEEDED)  # before the alert: not counted
    clock.set(T0 + minutes(4))
    incident = open_incident(log, ALICE, "payments 5xx")
    clock.set(T0 + minutes(6))
    action_record(log, "promote", event=EventType.ACTION_REFUSED)
    clock.set(T0 + minutes(9))
    action_record(log, "pause", event=EventType.ACTION_SUCCEEDED)
    snap = snapshot(alerts=(alert(at=T0),))
    t = build(snap, list(log.records()), since=SINCE, until=UNTIL, incident=incident)
    assert figures(t) == [240.0, 360.0, 540.0]
    assert [f.basis for f in t.figures] == [
        f"incident {incident.id} opened",
        "promote refused (record 4)",
        "pause succeeded (record 5)",
    ]


def test_mitigation_is_the_first_alert_resolution_when_it_comes_before_any_rollback(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0 + minutes(2))
    log = store(tmp_path, clock)
    action_record(log, "rollback", event=EventType.ACTION_REQUESTED)
    action_record(log, "rollback", event=EventType.ACTION_FAILED)
    gone = SeenAlert(alert(at=T0), resolved_at=T0 + minutes(7))
    t = build(snapshot(), list(log.records()), since=SINCE, until=UNTIL, seen=[gone])
    assert figures(t) == [120.0, 120.0, 420.0]
    assert t.figures[2].basis.startswith("alert resolved")
    assert [e.kind for e in t.entries] == ["alert", "action", "action", "resolved"]


def test_an_alert_seen_by_the_recorder_and_in_the_snapshot_is_listed_once() -> None:
    a = alert(at=T0)
    t = build(snapshot(alerts=(a,)), [], since=SINCE, until=UNTIL, seen=[SeenAlert(a)])
    assert [e.kind for e in t.entries] == ["alert"]


def test_a_service_keeps_its_own_and_fleet_wide_entries(tmp_path: Path) -> None:
    log = store(tmp_path, FixedClock(T0))
    action_record(log, "rollback", service="cart")
    action_record(log, "rollback", service="payments")
    open_incident(log, ALICE, "everything slow")  # no service: fleet-wide
    t = build(snapshot(), list(log.records()), since=SINCE, until=UNTIL, service="payments")
    assert [(e.kind, e.service) for e in t.entries] == [("action", "payments"), ("incident", "")]


def test_markdown_cells_cannot_break_the_table_or_inject_markup_or_control_characters(
    tmp_path: Path,
) -> None:
    log = store(tmp_path, FixedClock(T0))
    action_record(log, "rollback", reason="a | b\nc <script>x</script> *bold* [l](u) \x1b[2J `x`")
    text = render.markdown(build(snapshot(), list(log.records()), since=SINCE, until=UNTIL))
    [row] = [line for line in text.splitlines() if "rollback" in line]
    assert row.count(" | ") == 4  # five cells, however the reason is spelled
    assert "\x1b" not in text and "<script>" not in text
    assert r"a \| b c \<script\>x\</script\> \*bold\* \[l\](u) ^\[\[2J \`x\`" in row


def test_the_fleet_sources_problems_are_noted_in_the_timeline() -> None:
    snap = snapshot()
    from dataclasses import replace

    failing = replace(snap.sources["src"], ok=False, error="401 Unauthorized")
    snap = snap.with_source(failing, T0)
    t = build(snap, [], since=SINCE, until=UNTIL)
    assert t.notes == ("src failing (last success 0s ago): 401 Unauthorized",)
    assert "- Note: src failing (last success 0s ago): 401 Unauthorized" in render.markdown(t)
