"""Alertmanager API v2 payloads as cockpit facts, and a silence as the body API v2 takes.

Alertmanager's `status.state` is `active`, `suppressed` (silenced or inhibited: it still
fires, nobody is paged) or `unprocessed` (just received, not yet routed). The first two
are the cockpit's `firing`, the last `pending`; a state this cockpit does not know is read
as `firing`, so an alert never drops out of the alerts gate because a server is newer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.connect.options import Duration
from cockpit.model import Action, Alert, Severity
from connectors.alertmanager.options import MIN_SILENCE, AlertmanagerOptions

# Values of the severity label, lower-cased; anything else (or none) is a warning: an
# unknown severity is worth a look, but only a word we know pages the captain.
SEVERITY = {
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "error": Severity.CRITICAL,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "info": Severity.INFO,
    "none": Severity.INFO,
}
STATE = {"active": "firing", "suppressed": "firing", "unprocessed": "pending"}
# Go writes up to nine fractional digits; Python reads at most six.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def severity(value: str) -> Severity:
    return SEVERITY.get(value.strip().lower(), Severity.WARNING)


def when(value: object) -> datetime | None:
    """An RFC 3339 date-time as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def rfc3339(at: datetime) -> str:
    """An aware datetime as API v2 writes one: UTC, milliseconds, Z."""
    utc = at.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def strings(value: object) -> dict[str, str]:
    """A JSON object of labels or annotations as str -> str (a number in it is read as text)."""
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}


def _ids(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def first_label(labels: Mapping[str, str], names: list[str]) -> str:
    """The value of the first of `names` that the alert carries, or ""."""
    return next((labels[n] for n in names if labels.get(n)), "")


def alert(
    item: Mapping[str, Any], options: AlertmanagerOptions, source: str, now: datetime
) -> Alert:
    """One gettable alert as an Alert. Text stays raw here: the hub cleans every fact."""
    labels = strings(item.get("labels"))
    notes = strings(item.get("annotations"))
    raw = item.get("status")
    status: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    state = str(status.get("state") or "")
    environment = options.environment or first_label(labels, options.environment_labels)
    return Alert(
        name=labels.get("alertname", ""),
        service=first_label(labels, options.service_labels),
        environment=environment,
        severity=severity(labels.get(options.severity_label, "")),
        state=STATE.get(state, "firing"),
        summary=notes.get("summary") or notes.get("description") or "",
        # A start it cannot read is taken as now: the alert still fires and still counts.
        started_at=when(item.get("startsAt")) or now,
        source=source,
        observed_at=now,
        fingerprint=str(item.get("fingerprint") or ""),
        labels=tuple(sorted(labels.items())),
        silenced_by=_ids(status.get("silencedBy")),
        inhibited_by=_ids(status.get("inhibitedBy")),
        ends_at=when(item.get("endsAt")),
        url=str(item.get("generatorURL") or ""),
    )


def silence_span(text: str, maximum: float) -> timedelta | str:
    """How long a silence asked for as `text` ("2h") lasts, or why it may not."""
    try:
        seconds = Duration.parse(text.strip())
    except ValueError:
        return f"duration {text!r} is not a duration like 30m, 2h or 1d"
    if seconds < MIN_SILENCE:
        return f"a silence lasts at least {MIN_SILENCE / 60:g}m (asked: {text})"
    if seconds > maximum:
        return f"a silence lasts at most {_hours(maximum)} here (asked: {text}; see max_silence)"
    return timedelta(seconds=float(seconds))


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g}h" if seconds >= 3600 else f"{seconds / 60:g}m"


def silence_body(
    labels: Mapping[str, str], action: Action, now: datetime, span: timedelta
) -> dict[str, Any]:
    """POST /api/v2/silences: the alert's labels as exact matchers, from now, by the operator,
    with the reason (and ticket) as the comment."""
    comment = action.reason + (f" [ticket {action.ticket}]" if action.ticket else "")
    return {
        "matchers": [
            {"name": name, "value": value, "isRegex": False, "isEqual": True}
            for name, value in sorted(labels.items())
        ],
        "startsAt": rfc3339(now),
        "endsAt": rfc3339(now + span),
        "createdBy": action.actor,
        "comment": comment,
    }
