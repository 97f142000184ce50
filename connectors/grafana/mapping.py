"""Grafana's annotation JSON as cockpit Annotations, and the annotation written after an action."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.connector import ActionDone
from cockpit.model import Annotation
from cockpit.sanitize import clean
from connectors.grafana.options import GrafanaOptions

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TEXT = 2000  # one hostile annotation cannot fill the timeline (the hub cleans the rest)
MAX_TAGS = 50
MAX_TAG = 200
SERVICE_KEYS = ("service",)
ENVIRONMENT_KEYS = ("env", "environment")


def epoch_ms(at: datetime) -> int:
    """Grafana's time: whole epoch milliseconds (exact, no float rounding)."""
    return (at - EPOCH) // timedelta(milliseconds=1)


def _time(value: object) -> datetime | None:
    """Epoch milliseconds as an aware time; None for anything else (a string, NaN, 10**30)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        return EPOCH + timedelta(milliseconds=value)
    except OverflowError:
        return None


def _tag_value(tags: tuple[str, ...], keys: tuple[str, ...]) -> str:
    """The value of the first `key:value` tag whose key is one of `keys` (any case)."""
    for tag in tags:
        key, sep, value = tag.partition(":")
        if sep and key.strip().lower() in keys and value.strip():
            return value.strip()
    return ""


def annotation(item: object, source: str, now: datetime) -> Annotation | None:
    """One item of `GET /api/annotations`; None when it has no usable id or time."""
    if not isinstance(item, Mapping):
        return None
    ident, at = item.get("id"), _time(item.get("time"))
    if isinstance(ident, bool) or not isinstance(ident, int | str) or at is None:
        return None
    end = _time(item.get("timeEnd"))
    raw_tags = item.get("tags")
    tags = tuple(
        t[:MAX_TAG] for t in (raw_tags if isinstance(raw_tags, list) else []) if isinstance(t, str)
    )[:MAX_TAGS]
    text = item.get("text")
    # Real servers name the author in `login`; the API docs' examples in `userName`.
    author = next((v for k in ("login", "userName") if isinstance(v := item.get(k), str) and v), "")
    return Annotation(
        id=str(ident),
        at=at,
        text=clean(text, multiline=True, limit=MAX_TEXT) if isinstance(text, str) else "",
        source=source,
        observed_at=now,
        tags=tags,
        service=_tag_value(tags, SERVICE_KEYS),
        environment=_tag_value(tags, ENVIRONMENT_KEYS),
        end=end if end is not None and end > at else None,  # a point's timeEnd equals its time
        author=author,
    )


def summary(done: ActionDone) -> str:
    """One line: `rollback payments 1.4.2→1.4.1 in prod by alice: reason (CHG-1, audit #123)`."""
    a = done.action
    moves = a.from_version and a.version and a.from_version != a.version
    versions = f"{a.from_version}→{a.version}" if moves else (a.version or a.from_version)
    where = f"in {a.environment}" if a.environment else ""
    head = " ".join(p for p in (a.kind.value, a.service, versions, where) if p)
    text = f"{head} by {a.actor or 'unknown'}"
    if a.reason:
        text += f": {clean(a.reason, limit=300)}"
    refs = [clean(a.ticket, limit=60)] if a.ticket else []
    refs.append(f"audit #{done.record_seq}")
    return clean(f"{text} ({', '.join(refs)})")


def tags(done: ActionDone, options: GrafanaOptions) -> list[str]:
    """`cockpit`, `action:<kind>`, `service:`, `env:`, `version:` (the ones known), then the
    configured tags; each once."""
    a = done.action
    named = (("service", a.service), ("env", a.environment), ("version", a.version))
    out = ["cockpit", f"action:{a.kind.value}"]
    out += [f"{key}:{clean(value)}" for key, value in named if value]
    out += options.tags
    return list(dict.fromkeys(out))


def body(done: ActionDone, options: GrafanaOptions) -> dict[str, Any]:
    """The JSON of `POST /api/annotations`: an organization annotation unless a dashboard
    is configured."""
    out: dict[str, Any] = {
        "time": epoch_ms(done.at),
        "tags": tags(done, options),
        "text": summary(done),
    }
    if options.dashboard_uid:
        out["dashboardUID"] = options.dashboard_uid
    return out
