"""Hotfix follow-ups in the audit log: `cockpit audit follow-up`, and the report's missing ones."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.audit import Actor, AuditEvent, AuditRecord, EventType, Target
from cockpit.audit.canonical import utc_text
from cockpit.audit.records import VerifyResult
from cockpit.audit.report import build, who
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock
from tests.cli import cockpit

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ALICE = Actor(user="alice", host="bastion-1", ssh_client="", pid=42, version="0.1.0")
PERIOD = ("--since", "2026-11-26", "--until", "2026-11-27")
FAR_PAST, FAR_FUTURE = "2020-01-01T00:00:00.000Z", "2099-01-01T00:00:00.000Z"


def attempt(
    request_id: str, service: str, due: str | None, *, ran: bool = True
) -> list[AuditEvent]:
    """A promote's records; `due` given: it took the hotfix lane, due by then."""
    target = Target(service, "prod", "1.0.0", "1.0.1", "", "demo")
    policy: dict[str, object] = {"decision": "allowed" if ran else "refused"}
    if due is not None:
        policy.update(lane="hotfix", follow_up_hours=24, follow_up_due=due)
    kinds = (
        [(EventType.ACTION_REQUESTED, "requested"), (EventType.ACTION_SUCCEEDED, "succeeded")]
        if ran
        else [(EventType.ACTION_REFUSED, "refused")]
    )
    return [
        AuditEvent(
            kind,
            ALICE,
            target,
            "promote",
            outcome,
            reason="INC-7 500s on pay",
            ticket="CHG-7",
            policy=policy,
            request_id=request_id,
        )
        for kind, outcome in kinds
    ]


def write(db: Path, clock: FixedClock, events: list[AuditEvent]) -> None:
    with SqliteStore(str(db), clock=clock) as store:
        for e in events:
            clock.advance(60)
            store.append(e)


def records(db: Path, clock: FixedClock) -> list[AuditRecord]:
    with SqliteStore(str(db), clock=clock, create=False) as store:
        return list(store.records())


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """Records 2-3 an overdue hotfix, 4-5 a pending one, 6-7 one to follow up, 8 a refused
    hotfix, 9-10 a normal promote (record 1 is the log's own)."""
    db = tmp_path / "audit.sqlite3"
    write(
        db,
        FixedClock(NOW),
        [
            *attempt("h-late", "payments", FAR_PAST),
            *attempt("h-soon", "search", FAR_FUTURE),
            *attempt("h-done", "cart", FAR_PAST),
            *attempt("h-refused", "ledger", FAR_PAST, ran=False),
            *attempt("normal", "auth", None),
        ],
    )
    return db


def test_follow_up_appends_a_record_linking_the_hotfix_to_its_ticket(log: Path) -> None:
    done = cockpit("audit", "follow-up", "6", "--ticket", "CHG-8", "--reason", "root cause fixed",
                   "--db", str(log))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "record 11: follow-up CHG-8 for hotfix record 7 (cart/prod 1.0.1)"
    last = records(log, FixedClock(NOW))[-1]
    assert last.event_type is EventType.HOTFIX_FOLLOW_UP
    assert (last.ticket, last.reason, last.outcome) == ("CHG-8", "root cause fixed", "recorded")
    assert dict(last.extra) == {
        "hotfix_seq": 7,
        "hotfix_request_id": "h-done",
        "hotfix_ticket": "CHG-7",
    }
    assert cockpit("audit", "verify", "--db", str(log)).returncode == 0


@pytest.mark.parametrize(
    ("seq", "ticket", "message"),
    [
        ("9", "CHG-8", "record 9 is not a hotfix (its policy names no hotfix lane)"),
        ("8", "CHG-8", "record 8 is a hotfix that never ran: no follow-up is due"),
        ("99", "CHG-8", "no record 99"),
        ("6", " ", "--ticket must name the follow-up ticket"),
    ],
)
def test_follow_up_refuses_what_is_not_a_hotfix_that_ran_with_exit_2(
    log: Path, seq: str, ticket: str, message: str
) -> None:
    out = cockpit("audit", "follow-up", seq, "--ticket", ticket, "--db", str(log))
    assert out.returncode == 2 and out.stderr.strip() == f"cockpit audit: {message}", out.stderr
    assert "Traceback" not in out.stderr
    assert len(records(log, FixedClock(NOW))) == 10, "nothing appended"


def test_a_second_follow_up_for_the_same_hotfix_is_refused(log: Path) -> None:
    assert cockpit("audit", "follow-up", "6", "--ticket", "CHG-8", "--db", str(log)).returncode == 0
    again = cockpit("audit", "follow-up", "7", "--ticket", "CHG-9", "--db", str(log))
    assert again.returncode == 2
    assert "hotfix record 7 already has follow-up CHG-8 (record 11)" in again.stderr


def test_the_report_lists_overdue_and_pending_hotfixes_and_not_followed_up_ones(
    log: Path, tmp_path: Path
) -> None:
    assert cockpit("audit", "follow-up", "7", "--ticket", "CHG-8", "--db", str(log)).returncode == 0

    out = cockpit("audit", "report", "--db", str(log), "--format", "json", *PERIOD)
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)["hotfixes_without_follow_up"]
    assert [(h["record"], h["service"], h["state"]) for h in listed] == [
        (3, "payments", "overdue"),
        (5, "search", "pending"),
    ]
    late = listed[0]
    assert (late["environment"], late["version"], late["actor"], late["ticket"]) == (
        "prod", "1.0.1", "alice@bastion-1", "CHG-7",
    )  # fmt: skip
    assert late["follow_up_due"] == FAR_PAST

    table = csv.DictReader(io.StringIO(
        cockpit("audit", "report", "--db", str(log), "--format", "csv", *PERIOD).stdout
    ))  # fmt: skip
    rows = [(r["kind"], r["seqs"], r["service"], r["requested_by"], r["follow_up_due"])
            for r in table if r["kind"].startswith("hotfix")]  # fmt: skip
    assert rows == [
        ("hotfix-overdue", "3", "payments", "alice@bastion-1", FAR_PAST),
        ("hotfix-pending", "5", "search", "alice@bastion-1", FAR_FUTURE),
    ]

    page = tmp_path / "report.html"
    html_run = cockpit("audit", "report", "--db", str(log), "--format", "html", "-o", str(page),
                       *PERIOD)  # fmt: skip
    assert html_run.returncode == 0, html_run.stderr
    html = page.read_text()
    section = html.split("<h2>Hotfixes without a follow-up ticket (2)</h2>", 1)[1]
    assert "<td>OVERDUE</td>" in section and "<td>pending</td>" in section
    assert "payments" in section and "search" in section and "cart" not in section


def test_overdue_and_pending_are_decided_by_the_injected_clock(log: Path) -> None:
    clock = FixedClock(NOW)
    due = NOW + timedelta(hours=24)
    db = log.parent / "clocked.sqlite3"
    write(db, clock, attempt("h1", "payments", utc_text(due)))
    with SqliteStore(str(db), clock=clock, create=False) as store:
        history = list(store.records())

    def states(now: datetime) -> list[str]:
        report = build(
            history, production=lambda env: True, since=NOW, until=now, now=now,
            verified=VerifyResult(True, len(history), "", None, ""),
        )  # fmt: skip
        return [h.state for h in report.hotfixes_without_follow_up]

    assert states(due - timedelta(seconds=1)) == ["pending"]
    assert states(due) == ["overdue"]
    assert who(ALICE) == "alice@bastion-1"


def test_a_hotfix_whose_due_time_is_unreadable_counts_as_overdue(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    db = tmp_path / "audit.sqlite3"
    write(db, clock, attempt("h1", "payments", "tomorrow"))
    with SqliteStore(str(db), clock=clock, create=False) as store:
        history = list(store.records())
    report = build(
        history, production=lambda env: True, since=NOW, until=NOW, now=NOW,
        verified=VerifyResult(True, len(history), "", None, ""),
    )  # fmt: skip
    assert [h.state for h in report.hotfixes_without_follow_up] == ["overdue"]
