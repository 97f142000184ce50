"""Hotfixes still missing their follow-up ticket, for `cockpit audit report`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from cockpit.audit.canonical import parse_utc, utc_text
from cockpit.audit.events import Actor, EventType
from cockpit.audit.records import AuditRecord

OVERDUE, PENDING = "overdue", "pending"


@dataclass
class Hotfix:
    """A hotfix that ran and has no follow-up ticket recorded yet."""

    record: int  # the attempt's last record: what `cockpit audit follow-up` takes
    request_id: str
    time: str  # when it ran (UTC)
    service: str
    environment: str
    version: str
    actor: str
    ticket: str
    follow_up_due: str  # UTC; "" when the record names none (counted overdue)
    state: str  # overdue or pending


def _due(text: str) -> datetime | None:
    try:
        return parse_utc(text)
    except ValueError:
        return None


def missing(
    records: Iterable[AuditRecord],
    follow_ups: Iterable[AuditRecord],
    now: datetime,
    who: Callable[[Actor], str],
) -> list[Hotfix]:
    """Hotfixes among `records` that ran (reached action.requested) without a follow-up.

    Past due is overdue; a due time that is missing or unreadable counts as overdue too.
    """
    done = {str(r.extra.get("hotfix_request_id", "")) for r in follow_ups}
    found: dict[str, Hotfix] = {}
    for r in records:
        if r.policy.get("lane") != "hotfix" or not r.request_id or r.request_id in done:
            continue
        hotfix = found.get(r.request_id)
        if hotfix is None:
            if r.event_type is not EventType.ACTION_REQUESTED:
                continue  # refused or only asked for (two-person): nothing ran
            t = r.target
            hotfix = found[r.request_id] = Hotfix(
                record=r.seq,
                request_id=r.request_id,
                time=utc_text(r.ts),
                service=t.service if t else "",
                environment=t.environment if t else "",
                version=t.to_version if t else "",
                actor=who(r.actor),
                ticket=r.ticket,
                follow_up_due="",
                state=OVERDUE,
            )
        hotfix.record = r.seq
        hotfix.follow_up_due = str(r.policy.get("follow_up_due") or hotfix.follow_up_due)
    for hotfix in found.values():
        due = _due(hotfix.follow_up_due)
        hotfix.state = PENDING if due is not None and due > now else OVERDUE
    return list(found.values())
