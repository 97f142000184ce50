"""Incidents in the audit log: open, close (the only open one, or by id), list."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.audit import EventType
from cockpit.clock import FixedClock
from cockpit.incident.incidents import (
    IncidentError,
    close_incident,
    incident_id,
    incidents,
    open_incident,
    open_incidents,
)
from tests.unit.incident_kit import ALICE, BOB, T0, minutes, store


def test_opening_appends_a_chained_record_and_the_id_is_its_seq(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    log = store(tmp_path, clock)
    inc = open_incident(
        log,
        ALICE,
        "  checkout 5xx\n after 2.7.12 ",
        ticket="INC-7781",
        service="payments",
        environment="prod",
    )
    rec = log.head()
    assert rec is not None and rec.event_type is EventType.INCIDENT_OPENED
    assert inc.id == f"INC-{rec.seq}" and inc.record == rec.seq
    assert (inc.title, inc.ticket, inc.service, inc.environment) == (
        "checkout 5xx after 2.7.12",
        "INC-7781",
        "payments",
        "prod",
    )
    assert (inc.opened_at, inc.opened_by, inc.open) == (T0, "alice", True)
    assert rec.actor.user == "alice" and rec.extra["title"] == "checkout 5xx after 2.7.12"
    assert log.verify().ok


def test_close_without_an_id_closes_the_only_open_one_and_refuses_when_ambiguous(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0)
    log = store(tmp_path, clock)
    with pytest.raises(IncidentError, match="no incident is open"):
        close_incident(log, BOB)
    first = open_incident(log, ALICE, "payments down")
    second = open_incident(log, ALICE, "cart slow")
    with pytest.raises(IncidentError, match=f"2 incidents are open \\({first.id}, {second.id}\\)"):
        close_incident(log, BOB)
    clock.advance(600)
    closed = close_incident(log, BOB, second.id.lower(), reason="rolled back\n2.7.12")
    assert (closed.closed_at, closed.closed_by, closed.close_reason) == (
        T0 + minutes(10),
        "bob",
        "rolled back 2.7.12",
    )
    assert close_incident(log, BOB).id == first.id  # now the only open one
    assert open_incidents(log.records()) == []
    assert [(i.id, i.open) for i in incidents(log.records())] == [
        (first.id, False),
        (second.id, False),
    ]


def test_closing_an_unknown_or_closed_incident_is_refused_in_words(tmp_path: Path) -> None:
    log = store(tmp_path, FixedClock(T0))
    inc = open_incident(log, ALICE, "payments down")
    close_incident(log, ALICE, inc.id)
    with pytest.raises(IncidentError, match=f"{inc.id} is already closed"):
        close_incident(log, ALICE, inc.id)
    with pytest.raises(IncidentError, match="no incident INC-999 in the audit log"):
        close_incident(log, ALICE, "999")
    with pytest.raises(IncidentError, match="'payments' is not an incident id"):
        close_incident(log, ALICE, "payments")


@pytest.mark.parametrize("title", ["", "   \n", "x" * 201])
def test_a_title_is_required_and_bounded(tmp_path: Path, title: str) -> None:
    log = store(tmp_path, FixedClock(T0))
    with pytest.raises(IncidentError):
        open_incident(log, ALICE, title)
    assert open_incidents(log.records()) == []


def test_an_environment_without_a_service_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IncidentError, match="give both"):
        open_incident(store(tmp_path, FixedClock(T0)), ALICE, "t", environment="prod")


def test_control_characters_in_a_title_never_come_back_raw(tmp_path: Path) -> None:
    log = store(tmp_path, FixedClock(T0))
    open_incident(log, ALICE, "pay\x1b[31mments\u202e down")
    [inc] = incidents(log.records())
    assert "\x1b" not in inc.title and "\u202e" not in inc.title
    assert inc.title == "pay^[[31mments<U+202E> down"


def test_ids_are_read_in_any_case_and_with_or_without_the_prefix() -> None:
    assert incident_id("42") == incident_id("inc-42") == incident_id(" INC-042 ") == "INC-42"
