"""The Incident view's data: firing alerts ranked, what the audit record keeps, what was read.

Plain functions and data (no widgets), so the view module is only drawing and keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text

from cockpit.clock import ago
from cockpit.incident.correlate import Suspect
from cockpit.incident.incidents import CLOSE, OPEN, Incident, open_incidents
from cockpit.model import Alert, Severity
from cockpit.sanitize import clean
from screens.widgets import txt

SHOWN = 200  # changes listed for one alert: its best suspects (ranking all costs the same)
LOOKBACK = timedelta(hours=24)  # audit records read: the recorder keeps as long
SEVERITY = {
    Severity.CRITICAL: (0, "crit", "bold red"),
    Severity.WARNING: (1, "warn", "yellow"),
    Severity.INFO: (2, "info", "dim"),
}
# The audit records that hold changes (collect reads them) or incidents.
CHANGE_EVENTS = ("action.succeeded", "approval.granted", "approval.rejected", "app.start")


def alert_key(alert: Alert) -> str:
    return (
        f"{alert.source}:{alert.fingerprint or f'{alert.name}|{alert.service}|{alert.environment}'}"
    )


def ranked(alerts: Sequence[Alert]) -> list[Alert]:
    """Firing alerts, most severe first, then newest first (stable for equal ones)."""
    firing = [a for a in alerts if a.firing]
    firing.sort(key=lambda a: (a.name, a.service, a.environment, alert_key(a)))
    firing.sort(key=lambda a: a.started_at, reverse=True)
    firing.sort(key=lambda a: SEVERITY.get(a.severity, (3, "", ""))[0])
    return firing


def alert_evidence(alert: Alert) -> dict[str, str]:
    """The alert as the audit record keeps it: what prompted the action."""
    return {
        "name": clean(alert.name, limit=200),
        "fingerprint": clean(alert.fingerprint, limit=100),
        "severity": alert.severity.value,
        "started_at": alert.started_at.isoformat(),
        "service": clean(alert.service, limit=200),
        "environment": clean(alert.environment, limit=200),
        "source": clean(alert.source, limit=200),
        "summary": clean(alert.summary, limit=300),
    }


def suspect_evidence(suspect: Suspect, rank: int) -> dict[str, Any]:
    c = suspect.change
    return {
        "rank": rank,
        "why": suspect.why,
        "score": round(suspect.score, 4),
        "kind": c.kind,
        "at": c.at.isoformat(),
        "service": c.service,
        "environment": c.environment,
        "summary": c.summary,
        "version": c.version,
        "from_version": c.from_version,
        "actor": c.actor,
        "source": c.source,
        "record": c.record,
    }


@dataclass(frozen=True)
class Loaded:
    """What the view read from the audit log, off the UI thread."""

    records: tuple[Any, ...] = ()
    incidents: tuple[Incident, ...] = ()


def before_alert(seconds: float) -> str:
    """How long before the alert, short: "8m", "1h05m", "<1m"."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "<1m"
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def read_changes(store: Any, since: datetime) -> Loaded:
    """The records that hold changes in the last day, and every incident still open."""
    from cockpit.audit import EventType

    records = tuple(store.records(since=since, event_types=[EventType(k) for k in CHANGE_EVENTS]))
    marks = store.records(event_types=[EventType(OPEN), EventType(CLOSE)])
    return Loaded(records, tuple(open_incidents(marks)))


def alert_row(a: Alert, now: datetime) -> list[Text]:
    """A row of the alerts table: severity, since, where, what, and silenced or inhibited."""
    _, word, style = SEVERITY.get(a.severity, (3, a.severity.value, ""))
    state = "silenced" if a.silenced else "inhibited" if a.inhibited_by else ""
    return [
        Text(word, style=style),
        Text(ago(a.started_at, now)),
        txt(a.service, "bold", limit=30),
        txt(a.environment, limit=16),
        txt(a.name, style, limit=40),
        Text(state, style="dim"),
    ]


def change_row(rank: int, s: Suspect, alert: Alert) -> list[Text]:
    """A row of the changes table: the top suspect marked, how long before the alert."""
    c = s.change
    lead = (alert.started_at - c.at).total_seconds()
    where = "/".join(filter(None, (c.service, c.environment))) or "fleet-wide"
    return [
        Text("▶ suspect", style="bold reverse") if rank == 0 else Text(""),
        Text(before_alert(lead)),
        txt(c.kind, "bold" if c.alters else "dim"),
        txt(where, limit=30),
        txt(c.summary, limit=120),
    ]


def suspect_text(s: Suspect) -> Text:
    """The line under the changes: why it is suspected, by whom, which versions, from where."""
    c = s.change
    out = txt(s.why, "bold")
    if c.actor:
        out.append(" · by ")
        out.append_text(txt(c.actor, limit=30))
    if c.from_version or c.version:
        out.append(" · ")
        out.append_text(txt(f"{c.from_version or '?'} → {c.version or '?'}", limit=60))
    out.append(" · via ")
    out.append_text(txt(c.source, limit=40))
    if c.record is not None:
        out.append(f" · audit #{c.record}", style="dim")
    return out


def incidents_text(incidents: Sequence[Incident], now: datetime, open_key: str) -> Text:
    """The line over the alerts: the newest open incident and its age, or how to open one."""
    still = sorted(incidents, key=lambda i: i.opened_at, reverse=True)
    if not still:
        return Text(f"No incident open · {open_key} opens one", style="dim")
    newest = still[0]
    minutes = int((now - newest.opened_at).total_seconds() // 60)
    out = Text(f"{newest.id} open {minutes} min", style="bold red")
    out.append(": ")
    out.append_text(txt(newest.title, "bold", limit=80))
    if newest.ticket:
        out.append(" · ")
        out.append_text(txt(newest.ticket, limit=30))
    if len(still) > 1:
        out.append(f" (+{len(still) - 1} more open)", style="dim")
    return out
