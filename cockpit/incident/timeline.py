"""The post-mortem timeline: alerts, changes, actions and verdicts in one order, with three figures.

All three figures run from the first alert start in the timeline (impact began):
- time to detect: to the earlier of the incident's opening and the first action record;
- time to first action: to the first action record of any outcome (requested, refused, ...);
- time to mitigation: to the first succeeded rollback, pause, abort or silence, or the first
  alert resolution, whichever came first.
Only moments at or after the first alert start count. A figure with nothing to measure is
unknown (None), never zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cockpit.incident.changes import Change, collect
from cockpit.incident.incidents import CLOSE, OPEN, PREFIX, Incident
from cockpit.incident.recorder import SeenAlert, alert_key
from cockpit.sanitize import one_line

if TYPE_CHECKING:
    from cockpit.audit import AuditRecord, AuditStore
    from cockpit.fleet.snapshot import FleetSnapshot

ALERT, RESOLVED, ACTION, VERDICT, INCIDENT = "alert", "resolved", "action", "verdict", "incident"
MITIGATING = frozenset({"rollback", "pause", "abort", "silence"})
_ACTION_EVENTS = ("action.", "approval.", "breakglass.")
LIMIT = 300  # characters of any one text in an entry


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    kind: str  # alert, resolved, action, verdict, incident, or a change kind
    service: str
    environment: str
    what: str
    who: str = ""
    record: int | None = None  # the audit record's seq
    outcome: str = ""  # an action record's outcome: requested, succeeded, refused, ...
    action: str = ""  # an action record's action: rollback, silence, ...


@dataclass(frozen=True, slots=True)
class Figure:
    """One duration from the first alert start to `end`, or unknown with the reason."""

    name: str
    start: datetime | None
    end: datetime | None
    basis: str  # what the end is ("incident INC-4 opened"), or why it is unknown

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Timeline:
    title: str
    since: datetime
    until: datetime
    entries: tuple[Entry, ...]
    figures: tuple[Figure, Figure, Figure]  # detect, first action, mitigation
    incident: Incident | None = None
    service: str = ""
    notes: tuple[str, ...] = ()  # what may be missing: failing sources, no audit log


def read_records(store: AuditStore, since: datetime, until: datetime) -> list[AuditRecord]:
    """The records a timeline of [since, until] shows, and the app.start before `since` (a
    config change is a start whose config differs from the one before)."""
    from cockpit.audit import EventType

    shown = [t for t in EventType if t.value.startswith((*_ACTION_EVENTS, "incident.", "verdict."))]
    start = EventType.APP_START
    out = []
    for rec in store.records(since=since, event_types=[*shown, start]):
        if rec.ts > until:
            break
        out.append(rec)
    if not any(rec.event_type is start for rec in out):
        # Only a start in the period is compared with the one before; with none, finding
        # that one could read back to record 1 (the log has no index of event types).
        return out
    return [*store.records(until=since, event_types=[start], newest_first=True, limit=1), *out]


def build(
    snapshot: FleetSnapshot,
    records: Sequence[AuditRecord],
    *,
    since: datetime,
    until: datetime,
    incident: Incident | None = None,
    service: str = "",
    observed: Iterable[Change] = (),
    seen: Iterable[SeenAlert] = (),
    notes: Sequence[str] = (),
) -> Timeline:
    """The timeline of [since, until]; with `service`, its entries and fleet-wide ones.

    Alerts are those the snapshot reports and those a recorder saw (`seen`, with when they
    stopped firing); changes those `collect` finds, with a recorder's `observed` ones."""
    alerts = [*seen, *(SeenAlert(a) for a in snapshot.alerts)]
    entries = [*_alerts(alerts, since, until), *_records(records, since, until)]
    entries += [
        Entry(c.at, c.kind, c.service, c.environment, _text(c.summary), _text(c.actor))
        for c in collect(snapshot, records, since=since, until=until, observed=observed)
        if c.record is None  # audited changes are listed as their action records
    ]
    if service:
        entries = [e for e in entries if e.service in (service, "")]
    entries.sort(key=lambda e: (e.at, e.record or 0, e.kind, e.service, e.environment, e.what))
    if incident is not None:
        title = f"Incident {incident.id}: {incident.title}"
    else:
        title = f"Timeline of {service}" if service else "Timeline of the fleet"
    problems = [snapshot.source_problem(name) for name in snapshot.sources]
    return Timeline(
        _text(title),
        since,
        until,
        tuple(entries),
        figures(entries, incident),
        incident,
        service,
        (*notes, *(_text(p) for p in problems if p)),
    )


def figures(entries: Sequence[Entry], incident: Incident | None) -> tuple[Figure, Figure, Figure]:
    first = next((e for e in entries if e.kind == ALERT), None)
    names = ("time to detect", "time to first action", "time to mitigation")
    if first is None:
        return tuple(Figure(n, None, None, "no alert started in the period") for n in names)  # type: ignore[return-value]
    start = first.at
    after = [e for e in entries if e.at >= start]
    actions = [e for e in after if e.kind == ACTION]
    opened = [e for e in after if e.kind == INCIDENT and e.action == OPEN]
    if incident is not None:
        opened = [e for e in opened if e.record == incident.record]
    mitigations = [
        e
        for e in after
        if e.kind == RESOLVED
        or (e.kind == ACTION and e.outcome == "succeeded" and e.action in MITIGATING)
    ]
    detect = min([*opened[:1], *actions[:1]], key=lambda e: e.at, default=None)
    return (
        _figure(names[0], start, detect, "no incident opened and no action taken"),
        _figure(names[1], start, actions[0] if actions else None, "no action taken"),
        _figure(
            names[2],
            start,
            mitigations[0] if mitigations else None,
            "no rollback, pause, abort or silence succeeded and no alert resolved",
        ),
    )


def _figure(name: str, start: datetime, end: Entry | None, unknown: str) -> Figure:
    if end is None:
        return Figure(name, start, None, unknown)
    return Figure(name, start, end.at, _basis(end))


def _basis(e: Entry) -> str:
    if e.kind == RESOLVED:
        return f"alert resolved: {e.what}"
    if e.kind == INCIDENT:
        return f"incident {PREFIX}{e.record} opened"
    return f"{e.action} {e.outcome} (record {e.record})"


def _text(value: object) -> str:
    """Untrusted text as one line: line breaks become spaces, then `clean`, then cut."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable() and len(text) <= LIMIT:
        return text  # printable ASCII keeps its runs of spaces, as it always has
    return one_line(text, limit=LIMIT)


def _where(service: str, environment: str) -> tuple[str, str]:
    return _text(service), _text(environment)


def _alerts(alerts: Iterable[SeenAlert], since: datetime, until: datetime) -> list[Entry]:
    out = []
    done = set()
    for seen in alerts:
        a = seen.alert
        key = alert_key(a)
        if key in done:  # a recorder's and the snapshot's view of one alert
            continue
        done.add(key)
        svc, env = _where(a.service, a.environment)
        what = f"{a.name} [{a.severity.value}] {a.summary}"
        if a.silenced:
            what += " (silenced)"
        if since <= a.started_at <= until:
            out.append(Entry(a.started_at, ALERT, svc, env, _text(what), a.source))
        end = seen.resolved_at or (a.ends_at if a.state == "resolved" else None)
        if end is not None and since <= end <= until:
            out.append(Entry(end, RESOLVED, svc, env, _text(a.name), a.source))
    return out


def _records(records: Iterable[AuditRecord], since: datetime, until: datetime) -> list[Entry]:
    out = []
    for rec in records:
        if not since <= rec.ts <= until:
            continue
        kind = str(rec.event_type)
        svc, env = _where(rec.target.service, rec.target.environment) if rec.target else ("", "")
        who = _text(rec.actor.user)
        if kind in (OPEN, CLOSE):
            out.append(
                Entry(
                    rec.ts,
                    INCIDENT,
                    svc,
                    env,
                    _incident_words(rec),
                    who,
                    rec.seq,
                    rec.outcome,
                    kind,
                )
            )
        elif kind == "verdict.recorded":
            what = _text(f"canary verdict {rec.outcome}: {rec.reason}")
            out.append(
                Entry(rec.ts, VERDICT, svc, env, what, who, rec.seq, rec.outcome, rec.action)
            )
        elif kind.startswith(_ACTION_EVENTS):
            what = _text(_action_words(rec, kind))
            out.append(Entry(rec.ts, ACTION, svc, env, what, who, rec.seq, rec.outcome, rec.action))
    return out


def _incident_words(rec: AuditRecord) -> str:
    if str(rec.event_type) == OPEN:
        ticket = f" (ticket {rec.ticket})" if rec.ticket else ""
        return _text(f"opened {PREFIX}{rec.seq}: {rec.extra.get('title', '')}{ticket}")
    reason = f": {rec.reason}" if rec.reason else ""
    return _text(f"closed {rec.extra.get('incident', '')}{reason}")


def _action_words(rec: AuditRecord, kind: str) -> str:
    t = rec.target
    versions = ""
    if t and t.from_version and t.to_version:
        versions = f" {t.from_version} → {t.to_version}"
    elif t and t.to_version:
        versions = f" {t.to_version}"
    words = f"{rec.action}{versions}: {kind.split('.', 1)[1].replace('_', ' ')}"
    if rec.break_glass:
        words += " (break-glass)"
    refusal = rec.extra.get("refusal") or rec.policy.get("reasons")
    if rec.outcome == "refused" and isinstance(refusal, list) and refusal:
        words += f", {'; '.join(str(r) for r in refusal)}"
    if rec.reason:
        words += f"; reason: {rec.reason}"
    error = rec.extra.get("error")
    if error:
        words += f"; error: {error}"
    return words
