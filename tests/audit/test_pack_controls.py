"""The control map's rules on hand-written records: what counts as an approval, what a
record must carry, and what the pack shows of a gate's facts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.audit import Actor, AuditEvent, EventType, Target
from cockpit.audit.pack_controls import MappedChange, attempts, control_map
from cockpit.audit.pack_html import _changes
from cockpit.audit.records import AuditRecord
from cockpit.audit.sqlite import SqliteStore
from cockpit.clock import FixedClock

MIDNIGHT = datetime(2026, 11, 26, tzinfo=UTC)
ALICE = Actor("alice", "bastion-1", "", 1, "t", principal="alice@corp")
BOB = Actor("bob", "bastion-2", "", 2, "t", principal="bob@corp")
ALICE_ELSEWHERE = Actor("al", "laptop", "", 3, "t", principal="alice@corp")  # same person
PROD = Target("pay", "prod", "1.0.0", "1.1.0", "sha256:" + "ab" * 32, "argocd", "rollout/pay")
FACTS = {"sbom_digest": "sha256:" + "cd" * 32, "components": "412", "note": "<i>x</i>"}
GATES = {"gates": [{"name": "licences", "status": "pass", "evidence": "ok", "facts": FACTS}]}


def ev(kind: EventType, actor: Actor, rid: str, **kw: Any) -> AuditEvent:
    outcome = {"approval.pending": "pending", "approval.granted": "granted"}.get(kind, "ok")
    fields: dict[str, Any] = {"target": PROD, "action": "promote", "evidence": GATES}
    fields.update(kw)
    return AuditEvent(kind, actor, fields.pop("target"), fields.pop("action"), outcome,
                      request_id=rid, reason="release", **fields)  # fmt: skip


def mapped(
    tmp_path: Path, events: Sequence[tuple[int, AuditEvent]], since: datetime = MIDNIGHT
) -> list[MappedChange]:
    """Write `events` (each after its offset in minutes from midnight), map the day."""
    clock = FixedClock(MIDNIGHT - timedelta(hours=2))
    with SqliteStore(str(tmp_path / "audit.sqlite3"), clock=clock) as store:
        for minutes, event in events:
            clock.set(MIDNIGHT + timedelta(minutes=minutes))
            store.append(event)
        clock.set(MIDNIGHT + timedelta(hours=20))
        store.append(AuditEvent(EventType.AUDIT_READ, BOB, None, "audit.show", "success"))
        everything: list[AuditRecord] = list(store.records())
        verified = store.verify()
    period = [r for r in everything if r.ts >= since]
    return control_map(
        period,
        attempts(everything),
        production={"prod"}.__contains__,
        verified=verified,
        controls=("sox", "pci", "hipaa"),
    )


def two_person(first: int = 10) -> list[tuple[int, AuditEvent]]:
    return [
        (first, ev(EventType.APPROVAL_PENDING, ALICE, "r1", extra={"required": 1})),
        (first + 5, ev(EventType.APPROVAL_GRANTED, BOB, "r1", action="approve")),
        (first + 6, ev(EventType.ACTION_REQUESTED, BOB, "r1", extra={"initiator": "alice"})),
        (first + 7, ev(EventType.ACTION_SUCCEEDED, BOB, "r1")),
    ]


def test_an_approval_asked_and_given_before_the_period_still_counts(tmp_path: Path) -> None:
    asked, approved, deployed, done = (e for _, e in two_person())
    day = [(-20, asked), (-15, approved), (5, deployed), (6, done)]  # 23:40, 23:45, 00:05
    (change,) = mapped(tmp_path, day)
    assert (
        change.time == "2026-11-26T00:05:00.000Z"
        and change.author == "alice@corp (alice@bastion-1)"
    )
    sox = change.cells["sox"]
    assert sox.satisfied and [c.role for c in sox.records] == ["request", "approval", "deploy"]
    assert change.approvers == ["bob@corp (bob@bastion-2)"]


def test_an_approval_after_the_deploy_or_by_the_author_under_another_login_does_not_count(
    tmp_path: Path,
) -> None:
    late = [
        (10, ev(EventType.APPROVAL_PENDING, ALICE, "r1")),
        (11, ev(EventType.ACTION_REQUESTED, ALICE, "r1")),
        (12, ev(EventType.APPROVAL_GRANTED, BOB, "r1", action="approve")),
        (13, ev(EventType.ACTION_SUCCEEDED, ALICE, "r1")),
        (20, ev(EventType.APPROVAL_PENDING, ALICE, "r2")),
        (21, ev(EventType.APPROVAL_GRANTED, ALICE_ELSEWHERE, "r2", action="approve")),
        (22, ev(EventType.ACTION_REQUESTED, BOB, "r2")),
        (23, ev(EventType.ACTION_SUCCEEDED, BOB, "r2")),
    ]
    after, selfie = mapped(tmp_path, late)
    assert after.cells["sox"].missing == (
        "an approval by someone other than the author before deployment (none recorded)",
    )
    assert selfie.cells["sox"].missing == (
        "an approval by someone other than the author (only the author approved)",
    )


def test_releasing_another_system_s_deployment_is_the_approval_unless_sod_was_unchecked(
    tmp_path: Path,
) -> None:
    github = Target("pay", "prod", "", "1.1.0", "", "github", "run/77")
    unchecked = "alice on github maps to no operator in identities:, so segregation of duties cannot be checked"
    records = [
        (10, ev(EventType.ACTION_REQUESTED, BOB, "g1", action="approve", target=github,
                policy={"decision": "allowed", "notes": []})),
        (11, ev(EventType.ACTION_SUCCEEDED, BOB, "g1", action="approve", target=github)),
        (20, ev(EventType.ACTION_REQUESTED, BOB, "g2", action="approve", target=github,
                policy={"decision": "allowed", "notes": [unchecked]})),
        (21, ev(EventType.ACTION_SUCCEEDED, BOB, "g2", action="approve", target=github)),
    ]  # fmt: skip
    checked, unmapped = mapped(tmp_path, records)
    assert checked.cells["sox"].satisfied and "github" in checked.cells["sox"].note
    assert [c.role for c in checked.cells["sox"].records] == ["approval"]
    assert unmapped.cells["sox"].missing == (f"segregation of duties: {unchecked}",)


def test_pci_names_the_record_without_an_origin_and_a_deploy_without_an_outcome(
    tmp_path: Path,
) -> None:
    nowhere = Actor("bob", "", "", 2, "t")
    (change,) = mapped(
        tmp_path,
        [
            (10, ev(EventType.APPROVAL_PENDING, ALICE, "r1")),
            (11, ev(EventType.APPROVAL_GRANTED, nowhere, "r1", action="approve")),
            (12, ev(EventType.ACTION_REQUESTED, BOB, "r1")),
        ],
    )
    pci = change.cells["pci"]
    assert pci.missing == (
        f"record {change.seqs[1]} has no origin (actor.host)",
        "a success or failure record after the deploy record",
    )
    assert change.outcome == "no outcome recorded"
    hipaa = change.cells["hipaa"]
    assert hipaa.satisfied and hipaa.records[-1].role == "review"


def test_a_gate_s_facts_reach_the_map_and_the_page_escaped(tmp_path: Path) -> None:
    (change,) = mapped(tmp_path, two_person())
    assert change.gates == [
        {"name": "licences", "status": "pass", "evidence": "ok", "facts": FACTS}
    ]
    assert change.as_data()["gates"][0]["facts"]["sbom_digest"] == FACTS["sbom_digest"]
    html = _changes([change])
    assert f"sbom_digest={FACTS['sbom_digest']}" in html and "components=412" in html
    assert "<i>" not in html and "note=&lt;i&gt;x&lt;/i&gt;" in html
