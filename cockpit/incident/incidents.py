"""Incidents as audit records: opened and closed by an operator, read back from the log.

An incident's id is `INC-<seq>`, the sequence number of the record that opened it: unique
in the log, stable, short enough to type. Every function takes the audit store (the TUI
calls them through `Journal.call`, the CLI on its own store).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.errors import CockpitError
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.audit import Actor, AuditRecord, AuditStore

OPEN, CLOSE = "incident.open", "incident.close"
PREFIX = "INC-"
TITLE_LIMIT = 200


class IncidentError(CockpitError):
    """An incident command that cannot be done as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Incident:
    id: str  # INC-<seq of the open record>
    title: str
    opened_at: datetime
    opened_by: str
    record: int  # the open record's seq
    ticket: str = ""
    service: str = ""
    environment: str = ""
    closed_at: datetime | None = None
    closed_by: str = ""
    close_reason: str = ""

    @property
    def open(self) -> bool:
        return self.closed_at is None


def incident_id(text: str) -> str:
    """`42`, `inc-42` or `INC-42` as the canonical `INC-42`; IncidentError otherwise."""
    digits = text.strip().upper().removeprefix(PREFIX)
    if not digits.isdigit():
        raise IncidentError(f"{clean(text)!r} is not an incident id (like INC-42)")
    return f"{PREFIX}{int(digits)}"


def incidents(records: Iterable[AuditRecord]) -> list[Incident]:
    """Every incident the records open, oldest first, with its close when they hold one."""
    found: dict[str, Incident] = {}
    for rec in records:
        kind = str(rec.event_type)
        if kind == OPEN:
            target = rec.target
            found[f"{PREFIX}{rec.seq}"] = Incident(
                f"{PREFIX}{rec.seq}",
                clean(rec.extra.get("title", ""), limit=TITLE_LIMIT),
                rec.ts,
                clean(rec.actor.user),
                rec.seq,
                clean(rec.ticket),
                clean(target.service) if target else "",
                clean(target.environment) if target else "",
            )
        elif kind == CLOSE:
            which = str(rec.extra.get("incident", ""))
            if which in found and found[which].open:
                found[which] = replace(
                    found[which],
                    closed_at=rec.ts,
                    closed_by=clean(rec.actor.user),
                    close_reason=clean(rec.reason, limit=TITLE_LIMIT),
                )
    return list(found.values())


def open_incidents(records: Iterable[AuditRecord]) -> list[Incident]:
    return [i for i in incidents(records) if i.open]


def _incident_records(store: AuditStore) -> list[AuditRecord]:
    from cockpit.audit import EventType

    return list(store.records(event_types=[EventType(OPEN), EventType(CLOSE)]))


def checked_title(title: str, service: str = "", environment: str = "") -> str:
    """The title as recorded (whitespace folded), or why an incident cannot open with it."""
    title = " ".join(title.split())
    if not title:
        raise IncidentError("an incident needs a title")
    if len(title) > TITLE_LIMIT:
        raise IncidentError(f"the title is {len(title)} characters; at most {TITLE_LIMIT}")
    if environment and not service:
        raise IncidentError("--env names the environment of a --service: give both")
    return title


def open_incident(
    store: AuditStore,
    actor: Actor,
    title: str,
    *,
    ticket: str = "",
    service: str = "",
    environment: str = "",
) -> Incident:
    """Append the record that opens an incident, and return it."""
    from cockpit.audit import AuditEvent, EventType, Target

    title = checked_title(title, service, environment)
    target = Target(service=service, environment=environment) if service else None
    extra: dict[str, Any] = {"title": title}
    rec = store.append(
        AuditEvent(EventType(OPEN), actor, target, OPEN, "open", ticket=ticket, extra=extra)
    )
    return incidents([rec])[0]


def close_incident(
    store: AuditStore, actor: Actor, which: str | None = None, *, reason: str = ""
) -> Incident:
    """Append the record that closes `which` (or the only open incident), and return it."""
    from cockpit.audit import AuditEvent, EventType, Target

    records = _incident_records(store)
    still = open_incidents(records)
    if which is None:
        if not still:
            raise IncidentError("no incident is open")
        if len(still) > 1:
            ids = ", ".join(i.id for i in still)
            raise IncidentError(f"{len(still)} incidents are open ({ids}): name the one to close")
        incident = still[0]
    else:
        wanted = incident_id(which)
        every = {i.id: i for i in incidents(records)}
        if wanted not in every:
            raise IncidentError(f"no incident {wanted} in the audit log")
        incident = every[wanted]
        if not incident.open:
            raise IncidentError(f"{wanted} is already closed")
    target = Target(incident.service, incident.environment) if incident.service else None
    rec = store.append(
        AuditEvent(
            EventType(CLOSE),
            actor,
            target,
            CLOSE,
            "closed",
            reason=" ".join(reason.split()),
            extra={"incident": incident.id},
        )
    )
    return replace(
        incident,
        closed_at=rec.ts,
        closed_by=clean(actor.user),
        close_reason=clean(rec.reason, limit=TITLE_LIMIT),
    )
