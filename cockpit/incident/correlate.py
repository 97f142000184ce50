"""Which changes could have caused an alert: the ones just before it started, ranked.

A suspect's score is relation x kind x time:
- relation to the alert's cell dominates: same service and environment 1, same service in
  another environment 1/4, same environment (or fleet-wide) 1/16, unrelated 1/64;
- a change that alters what runs (deploy, promote, rollback, canary, sync, restart,
  drift, config) weighs 1, anything else (approval, pipeline, annotation, ...) 1/2;
- time: 1 for a change the instant the alert started, down to 0.6 at the window's start.
Kind and time together span at most 3.3x, less than the 4x between relations, so a closer
relation always ranks above a farther one. A change after the alert started is not a
cause and is never a suspect.

Ranking many alerts: build one `ChangeIndex` and ask it per alert; with `limit`, each
alert looks only at the newest few changes of each relation, which is what keeps 500
alerts x 5,000 changes in milliseconds (bench/incident.py).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.incident.changes import Change
from cockpit.model import Alert

WINDOW = timedelta(hours=2)
RELATIONS = (
    (1.0, "same service and environment"),
    (1 / 4, "same service, other environment"),
    (1 / 16, "same environment, other service"),
    (1 / 64, "unrelated service and environment"),
)
FLEET_WIDE = "fleet-wide"
OTHER_KIND = 0.5


@dataclass(frozen=True, slots=True)
class Suspect:
    change: Change
    score: float
    why: str  # in words: "same service and environment, 4 min before"


def relation(alert: Alert, change: Change) -> int:
    """0 same cell, 1 same service, 2 same environment or fleet-wide, 3 unrelated."""
    if change.service and change.service == alert.service:
        return 0 if change.environment == alert.environment else 1
    if not change.service or change.environment == alert.environment:
        return 2
    return 3


def before(seconds: float) -> str:
    """How long before, in words: "under 1 min", "4 min", "1 h 05 min"."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def score(alert: Alert, change: Change, window: timedelta) -> Suspect:
    tier = relation(alert, change)
    weight, words = RELATIONS[tier]
    if tier == 2 and not change.service:
        words = FLEET_WIDE
    lead = (alert.started_at - change.at).total_seconds()
    span = window.total_seconds() or 1.0
    closeness = 1.0 - 0.4 * min(max(lead / span, 0.0), 1.0)
    kind = 1.0 if change.alters else OTHER_KIND
    return Suspect(change, weight * kind * closeness, f"{words}, {before(lead)} before")


def _rank_key(s: Suspect) -> tuple[float, float, str, str]:
    # Highest score first; ties: newer first, then kind, then summary (stable across runs).
    return (-s.score, -s.change.at.timestamp(), s.change.kind, s.change.summary)


class _Series:
    """Changes sorted by time, with their times beside them for bisect."""

    __slots__ = ("changes", "times")

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.times: list[datetime] = []

    def add(self, change: Change) -> None:
        self.changes.append(change)
        self.times.append(change.at)

    def span(self, lo: datetime, hi: datetime) -> tuple[int, int]:
        return bisect_left(self.times, lo), bisect_right(self.times, hi)


_EMPTY = _Series()


class ChangeIndex:
    """Changes indexed once (by time, cell, service and environment) for many alerts."""

    def __init__(self, changes: Sequence[Change]) -> None:
        self.all = _Series()
        self.by_cell: dict[tuple[str, str], _Series] = {}
        self.by_service: dict[str, _Series] = {}
        self.by_env: dict[str, _Series] = {}
        self.fleet = _Series()  # no service: fleet-wide
        for c in sorted(changes, key=Change.sort_key):
            self.all.add(c)
            if c.service:
                self.by_cell.setdefault((c.service, c.environment), _Series()).add(c)
                self.by_service.setdefault(c.service, _Series()).add(c)
            else:
                self.fleet.add(c)
            self.by_env.setdefault(c.environment, _Series()).add(c)

    def __len__(self) -> int:
        return len(self.all.changes)

    def suspects(
        self, alert: Alert, *, window: timedelta = WINDOW, limit: int | None = None
    ) -> list[Suspect]:
        """Changes in [start - window, start], best suspect first (at most `limit`)."""
        lo, hi = alert.started_at - window, alert.started_at
        if limit is None:
            i, j = self.all.span(lo, hi)
            found = self.all.changes[i:j]
        else:
            found = self._candidates(alert, lo, hi, limit)
        ranked = sorted((score(alert, c, window) for c in found), key=_rank_key)
        return ranked if limit is None else ranked[:limit]

    def _candidates(self, alert: Alert, lo: datetime, hi: datetime, limit: int) -> list[Change]:
        """A superset of the top `limit`: within one relation and kind weight the score only
        falls with age, so the newest `limit` of each (relation, kind) hold its best; a
        relation whose candidates already fill `limit` outranks every farther one."""
        found: list[Change] = []
        for tier, series in self._tiers(alert):

            def keep(c: Change, tier: int = tier) -> bool:
                return relation(alert, c) == tier

            for s in series:
                found.extend(_newest(s, lo, hi, limit, keep))
            if len(found) >= limit:
                break
        return list(dict.fromkeys(found))  # the fleet list and the env list may share some

    def _tiers(self, alert: Alert) -> Iterator[tuple[int, tuple[_Series, ...]]]:
        yield 0, (self.by_cell.get((alert.service, alert.environment), _EMPTY),)
        yield 1, (self.by_service.get(alert.service, _EMPTY),)
        yield 2, (self.by_env.get(alert.environment, _EMPTY), self.fleet)
        yield 3, (self.all,)


def _newest(
    s: _Series, lo: datetime, hi: datetime, limit: int, keep: Callable[[Change], bool]
) -> list[Change]:
    """Walking back from `hi`, the newest `limit` kept changes of each kind weight, and any
    as old as the last of them (equal scores are ordered by kind and summary, not by age)."""
    i, j = s.span(lo, hi)
    counts = {True: 0, False: 0}
    last: dict[bool, datetime] = {}
    out = []
    for k in range(j - 1, i - 1, -1):
        c = s.changes[k]
        if min(counts.values()) >= limit and all(c.at < t for t in last.values()):
            break
        if (counts[c.alters] >= limit and c.at < last[c.alters]) or not keep(c):
            continue
        counts[c.alters] += 1
        last[c.alters] = c.at
        out.append(c)
    return out


def suspects(
    alert: Alert,
    changes: Sequence[Change] | ChangeIndex,
    *,
    window: timedelta = WINDOW,
    limit: int | None = None,
) -> list[Suspect]:
    """The changes that could have caused `alert`, best first; see the module docstring."""
    index = changes if isinstance(changes, ChangeIndex) else ChangeIndex(changes)
    return index.suspects(alert, window=window, limit=limit)
