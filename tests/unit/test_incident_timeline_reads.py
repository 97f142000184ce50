"""`cockpit incident timeline` reads what its period needs from a long log, with the cyclic
garbage collector held off while it reads and builds (cockpit.gcpause)."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.audit import Actor, AuditEvent, EventType, Target
from cockpit.cli import main
from cockpit.gcpause import paused_gc
from cockpit.incident import timeline
from tests.bulk_log import count_bodies_read, write_log

T0 = datetime(2026, 11, 20, tzinfo=UTC)
ALICE = Actor("alice", "bastion-1", "", 4242, "test")
COUNT, OPENED, CLOSED = 2_000, 1_900, 1_950  # one record a minute; the incident's minutes


def _event(n: int, inc: str) -> AuditEvent:
    if n == OPENED:
        return AuditEvent(EventType.INCIDENT_OPENED, ALICE, None, "incident.open", "open",
                          extra={"title": "payments 5xx"})  # fmt: skip
    if n == CLOSED:
        return AuditEvent(EventType.INCIDENT_CLOSED, ALICE, None, "incident.close", "closed",
                          reason="rolled back", extra={"incident": inc})  # fmt: skip
    target = Target("payments", "prod", "2.7.11", "2.7.12")
    return AuditEvent(EventType.ACTION_REQUESTED, ALICE, target, "promote", "requested")


@pytest.fixture
def incident_log(tmp_path: Path) -> tuple[Path, str]:
    """A log of COUNT records with an incident opened near its end; the log and the id."""
    path = tmp_path / "audit.sqlite3"
    first = 2  # after the init record
    inc = f"INC-{first + OPENED}"
    write_log(path, [(T0 + timedelta(minutes=n), _event(n, inc)) for n in range(COUNT)])
    return path, inc


def _timeline(path: Path, inc: str, out: Path) -> dict[str, Any]:
    argv = ["incident", "timeline", "--incident", inc, "--db", str(path), "--format", "json"]
    assert main([*argv, "-o", str(out)]) == 0
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def test_an_incident_timeline_reads_the_log_from_its_opening_not_from_record_1(
    incident_log: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, inc = incident_log
    bodies_read = count_bodies_read(monkeypatch)
    data = _timeline(path, inc, tmp_path / "timeline.json")
    assert data["incident"]["id"] == inc and data["incident"]["close_reason"] == "rolled back"
    assert data["since"] == "2026-11-21T05:40:00Z" and data["until"] == "2026-11-21T08:30:00Z"
    # Its 2 h before and its 50 minutes read, once or twice each; the incident records
    # were looked for in all 2,000 records before.
    assert bodies_read[0] < 1_000


def test_the_timeline_reads_and_builds_with_the_collector_paused_and_restores_it(
    incident_log: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, inc = incident_log
    seen = []
    for name in ("read_records", "build"):
        real = getattr(timeline, name)

        def spy(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            seen.append(gc.isenabled())
            return _real(*args, **kwargs)

        monkeypatch.setattr(timeline, name, spy)
    assert gc.isenabled()
    _timeline(path, inc, tmp_path / "timeline.json")
    assert seen == [False, False] and gc.isenabled()


def test_the_collector_comes_back_after_a_failure_and_stays_off_when_it_was_off() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
