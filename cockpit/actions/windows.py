"""Change windows and blackouts: cron start, duration, time zone, evaluated DST-correctly.

An environment is open when it is inside one of its allow windows (or it has none) and
inside none of its deny windows (blackouts, GitLab freezes, Argo CD deny windows).
Occurrences start at the cron's local time in the window's zone (croniter handles the DST
gaps and folds) and end `duration` later on the local wall clock, so "09:00 for 9h" ends
at 18:00 local time even on the day the clocks change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cockpit.model import ChangeWindow

HORIZON = timedelta(days=35)


@dataclass(frozen=True)
class WindowState:
    open: bool
    label: str  # "open until 18:00 CET", "closed, opens in 3h12m", "open (no windows)"
    reason: str  # why closed, in words, or ""
    until: datetime | None  # when the state flips, if within the horizon
    windows: tuple[str, ...] = ()  # the windows that decide the current state


NO_WINDOWS = WindowState(True, "open (no change windows)", "", None)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def validate(window: ChangeWindow) -> None:
    """Raise ValueError for a window that can never be evaluated."""
    from croniter import croniter

    zone(window.timezone)
    if not croniter.is_valid(window.schedule):
        raise ValueError(f"invalid cron schedule {window.schedule!r}")
    if window.duration_minutes <= 0:
        raise ValueError("a window's duration must be positive")
    if window.kind not in ("allow", "deny"):
        raise ValueError(f"window kind must be allow or deny, not {window.kind!r}")


def _starts(window: ChangeWindow, after: datetime, before: datetime) -> list[datetime]:
    """Occurrence starts in (after, before], oldest first, as aware datetimes."""
    from croniter import croniter

    tz = zone(window.timezone)
    it = croniter(window.schedule, after.astimezone(tz))
    out = []
    for _ in range(2000):
        start = it.get_next(datetime)
        if start > before:
            break
        out.append(start)
    return out


def occurrence(window: ChangeWindow, now: datetime) -> tuple[datetime, datetime] | None:
    """The occurrence of `window` that contains `now`, if any."""
    from croniter import croniter

    tz = zone(window.timezone)
    # get_prev from just after `now` so an occurrence starting exactly now counts.
    start = croniter(window.schedule, (now + timedelta(seconds=1)).astimezone(tz)).get_prev(
        datetime
    )
    end = start + timedelta(minutes=window.duration_minutes)
    return (start, end) if start <= now < end else None


def applies(window: ChangeWindow, environment: str) -> bool:
    return not window.environments or environment in window.environments


def _is_open(
    windows: Sequence[ChangeWindow], now: datetime
) -> tuple[bool, list[ChangeWindow], str]:
    allows = [w for w in windows if w.kind == "allow"]
    denies = [w for w in windows if w.kind == "deny"]
    active_denies = [w for w in denies if occurrence(w, now)]
    if active_denies:
        names = ", ".join(w.name for w in active_denies)
        return False, active_denies, f"blackout {names} is in effect"
    if not allows:
        return True, [], ""
    active_allows = [w for w in allows if occurrence(w, now)]
    if active_allows:
        return True, active_allows, ""
    return False, allows, "outside every allowed change window"


def state(windows: Iterable[ChangeWindow], environment: str, now: datetime) -> WindowState:
    """Whether `environment` is open for changes at `now`, and until when."""
    relevant = [w for w in windows if applies(w, environment)]
    if not relevant:
        return NO_WINDOWS
    is_open, deciding, reason = _is_open(relevant, now)
    flip = _next_flip(relevant, now, is_open)
    names = tuple(w.name for w in deciding)
    if is_open:
        if flip is None:
            return WindowState(True, "open", "", None, names)
        tz = zone(deciding[0].timezone) if deciding else zone(relevant[0].timezone)
        return WindowState(True, f"open until {_clock(flip, tz, now)}", "", flip, names)
    if flip is None:
        return WindowState(False, "closed (no opening in the next 35 days)", reason, None, names)
    return WindowState(False, f"closed, opens in {_span(flip - now)}", reason, flip, names)


def _next_flip(windows: Sequence[ChangeWindow], now: datetime, is_open: bool) -> datetime | None:
    boundaries: set[datetime] = set()
    for w in windows:
        length = timedelta(minutes=w.duration_minutes)
        for start in _starts(w, now - length, now + HORIZON):
            for t in (start, start + length):
                if now < t <= now + HORIZON:
                    boundaries.add(t)
    for t in sorted(boundaries):
        if _is_open(windows, t)[0] != is_open:
            return t
    return None


def _clock(when: datetime, tz: ZoneInfo, now: datetime) -> str:
    local = when.astimezone(tz)
    text = local.strftime("%H:%M %Z")
    if local.date() != now.astimezone(tz).date():
        text = local.strftime("%a %d %b ") + text
    return text


def _span(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{mins:02d}m"
    return f"{mins}m"
