"""The auditor's report: every production change of a period, every break-glass use, and
every hotfix of the period still missing its follow-up ticket.

Records of one attempt share a request_id (requested, approvals, succeeded/failed/refused);
the report folds them into one change with its requester, approvers, gates and outcome.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from cockpit.audit.canonical import utc_text
from cockpit.audit.events import Actor, EventType
from cockpit.audit.export import TextSink, cell
from cockpit.audit.records import AuditRecord, VerifyResult
from cockpit.audit.report_hotfix import Hotfix, missing

_FINAL = {
    EventType.ACTION_SUCCEEDED: "succeeded",
    EventType.ACTION_FAILED: "failed",
    EventType.ACTION_REFUSED: "refused",
    EventType.ACTION_CANCELLED: "cancelled",
    EventType.APPROVAL_REJECTED: "rejected",
}
_CHANGE_EVENTS = {
    t for t in EventType if t.value.startswith(("action.", "approval.", "breakglass."))
}


def who(actor: Actor) -> str:
    """The principal from a verified signature when there is one, and the OS login."""
    login = f"{actor.user}@{actor.host}"
    return f"{actor.principal} ({login})" if actor.principal else login


@dataclass
class Change:
    """One attempt to change production, allowed or not."""

    request_id: str
    time: str
    service: str
    environment: str
    action: str
    from_version: str = ""
    to_version: str = ""
    digest: str = ""
    requested_by: str = ""
    approvers: list[str] = field(default_factory=list)
    outcome: str = "requested"
    decision: str = ""
    break_glass: bool = False
    reason: str = ""
    ticket: str = ""
    gates: list[str] = field(default_factory=list)  # "name: status"
    seqs: list[int] = field(default_factory=list)

    def add(self, record: AuditRecord) -> None:
        self.seqs.append(record.seq)
        target = record.target
        if target is not None:
            self.from_version = self.from_version or target.from_version
            self.to_version = self.to_version or target.to_version
            self.digest = self.digest or target.digest
        if record.event_type == EventType.APPROVAL_GRANTED:
            self.approvers.append(who(record.actor))
        elif not self.requested_by and record.event_type != EventType.APPROVAL_PENDING:
            self.requested_by = who(record.actor)
        self.outcome = _FINAL.get(record.event_type, self.outcome)
        self.decision = str(record.policy.get("decision", "")) or self.decision
        self.break_glass = self.break_glass or record.break_glass
        self.break_glass |= record.event_type == EventType.BREAKGLASS_USED
        self.reason = self.reason or record.reason
        self.ticket = self.ticket or record.ticket
        gates = record.evidence.get("gates")
        if not self.gates and isinstance(gates, list):
            named = (g for g in gates if isinstance(g, dict))
            self.gates = [f"{g.get('name', '?')}: {g.get('status', '?')}" for g in named]


@dataclass
class Report:
    since: str
    until: str
    generated: str
    integrity: str  # what `audit verify` said when the report was made
    changes: list[Change]
    break_glass: list[Change]  # every break-glass use in the period, any environment
    # Hotfixes of the period (any environment) with no follow-up ticket yet: overdue, pending.
    hotfixes_without_follow_up: list[Hotfix] = field(default_factory=list)


def build(
    records: Iterable[AuditRecord],
    *,
    production: Callable[[str], bool],
    since: datetime,
    until: datetime,
    now: datetime,
    verified: VerifyResult,
    follow_ups: Iterable[AuditRecord] = (),
) -> Report:
    """`follow_ups`: the hotfix.follow_up records from `since` to now (they may come after
    `until`), so a hotfix followed up since is not listed as missing."""
    groups: dict[str, Change] = {}
    hotfixes: list[AuditRecord] = []
    for record in records:
        if record.event_type not in _CHANGE_EVENTS:
            continue
        if record.policy.get("lane"):
            hotfixes.append(record)
        key = record.request_id or f"seq-{record.seq}"
        change = groups.get(key)
        if change is None:
            target = record.target
            change = groups[key] = Change(
                request_id=key,
                time=utc_text(record.ts),
                service=target.service if target else "",
                environment=target.environment if target else "",
                action=record.action,
            )
        change.add(record)
    ordered = list(groups.values())
    return Report(
        since=utc_text(since),
        until=utc_text(until),
        generated=utc_text(now),
        integrity=verified.describe(),
        changes=[c for c in ordered if production(c.environment)],
        break_glass=[c for c in ordered if c.break_glass],
        hotfixes_without_follow_up=missing(hotfixes, follow_ups, now, who),
    )


def to_json(report: Report) -> str:
    return json.dumps(asdict(report), indent=2, ensure_ascii=True) + "\n"


COLUMNS = (
    "kind", "request_id", "time", "service", "environment", "action", "from_version",
    "to_version", "digest", "requested_by", "approvers", "outcome", "decision", "break_glass",
    "reason", "ticket", "gates", "seqs", "follow_up_due",
)  # fmt: skip


def _row(kind: str, change: Change) -> dict[str, Any]:
    data = asdict(change)
    data.update(
        kind=kind,
        approvers="; ".join(change.approvers),
        gates="; ".join(change.gates),
        seqs=" ".join(map(str, change.seqs)),
        break_glass="yes" if change.break_glass else "no",
    )
    return {k: cell(data.get(k, "")) for k in COLUMNS}


def _hotfix_row(hotfix: Hotfix) -> dict[str, Any]:
    data = {
        **asdict(hotfix),
        "kind": f"hotfix-{hotfix.state}",
        "action": "promote",
        "to_version": hotfix.version,
        "requested_by": hotfix.actor,
        "outcome": f"follow-up {hotfix.state}",
        "seqs": str(hotfix.record),
    }
    return {k: cell(data.get(k, "")) for k in COLUMNS}


def to_csv(report: Report, out: TextSink) -> None:
    """One table: `change` rows, a `break-glass` row for every use (any environment), then a
    `hotfix-overdue` or `hotfix-pending` row for every hotfix still missing its follow-up."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for change in report.changes:
        writer.writerow(_row("change", change))
    for use in report.break_glass:
        writer.writerow(_row("break-glass", use))
    for hotfix in report.hotfixes_without_follow_up:
        writer.writerow(_hotfix_row(hotfix))
