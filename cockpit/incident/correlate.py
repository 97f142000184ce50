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

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from operator import itemgetter

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


def _value(tier: int, alters: bool, lead: float, span: float) -> float:
    age = lead / span  # clamped to [0, 1] without min/max calls: ranked ~30 times an alert
    closeness = 1.0 - 0.4 * (0.0 if age < 0.0 else 1.0 if age > 1.0 else age)
    return RELATIONS[tier][0] * (1.0 if alters else OTHER_KIND) * closeness


def score(alert: Alert, change: Change, window: timedelta) -> Suspect:
    tier = relation(alert, change)
    words = FLEET_WIDE if tier == 2 and not change.service else RELATIONS[tier][1]
    lead = (alert.started_at - change.at).total_seconds()
    value = _value(tier, change.alters, lead, window.total_seconds() or 1.0)
    return Suspect(change, value, f"{words}, {before(lead)} before")


Found = tuple[Change, float, bool]  # a change, its time as a POSIX timestamp, whether it alters


class _Series:
    """Changes sorted by time, their timestamps beside them for bisect."""

    __slots__ = ("alters", "changes", "stamps")

    def __init__(self, found: Sequence[Found] = ()) -> None:
        self.changes: list[Change] = [c for c, _, _ in found]
        self.stamps: list[float] = [at for _, at, _ in found]
        self.alters: list[bool] = [a for _, _, a in found]

    def span(self, lo: float, hi: float) -> tuple[int, int]:
        return bisect_left(self.stamps, lo), bisect_right(self.stamps, hi)

    def found(self, k: int) -> Found:
        return (self.changes[k], self.stamps[k], self.alters[k])


_EMPTY = _Series()


class ChangeIndex:
    """Changes indexed once (by time, cell, service and environment) for many alerts."""

    def __init__(self, changes: Sequence[Change]) -> None:
        # By time only: equal times are ordered when ranked, never by this list.
        found = sorted(((c, c.at.timestamp(), c.alters) for c in changes), key=itemgetter(1))
        by_cell: defaultdict[tuple[str, str], list[Found]] = defaultdict(list)
        by_service: defaultdict[str, list[Found]] = defaultdict(list)
        by_env: defaultdict[str, list[Found]] = defaultdict(list)
        fleet = []  # no service: fleet-wide
        for item in found:
            c = item[0]
            if c.service:
                by_cell[(c.service, c.environment)].append(item)
                by_service[c.service].append(item)
            else:
                fleet.append(item)
            by_env[c.environment].append(item)
        # Each series built whole, not appended to change by change (build 2x faster).
        self.all = _Series(found)
        self.by_cell = {key: _Series(items) for key, items in by_cell.items()}
        self.by_service = {key: _Series(items) for key, items in by_service.items()}
        self.by_env = {key: _Series(items) for key, items in by_env.items()}
        self.fleet = _Series(fleet)

    def __len__(self) -> int:
        return len(self.all.changes)

    def suspects(
        self, alert: Alert, *, window: timedelta = WINDOW, limit: int | None = None
    ) -> list[Suspect]:
        """Changes in [start - window, start], best suspect first (at most `limit`)."""
        span = window.total_seconds() or 1.0
        hi = alert.started_at.timestamp()
        lo = hi - window.total_seconds()
        if limit is None:
            i, j = self.all.span(lo, hi)
            found = [self.all.found(k) for k in range(i, j)]
        else:
            found = self._candidates(alert, lo, hi, limit)
        # Ranked on plain tuples; only the suspects returned are built, with their words.
        # Highest score first; ties: newer first, then kind, then summary (stable across runs).
        keyed = sorted(
            (
                (-_value(relation(alert, c), alters, hi - at, span), -at, c.kind, c.summary, n)
                for n, (c, at, alters) in enumerate(found)
            )
        )
        top = keyed if limit is None else keyed[:limit]
        return [score(alert, found[k[-1]][0], window) for k in top]

    def _candidates(self, alert: Alert, lo: float, hi: float, limit: int) -> list[Found]:
        """A superset of the top `limit`: within one relation and kind weight the score only
        falls with age, so the newest `limit` of each (relation, kind) hold its best; a
        relation whose candidates already fill `limit` outranks every farther one."""
        found: dict[int, Found] = {}  # by id: the fleet list and the env list share some
        for tier, series in self._tiers(alert):

            def keep(c: Change, tier: int = tier) -> bool:
                return relation(alert, c) == tier

            for s in series:
                for item in _newest(s, lo, hi, limit, None if tier == 0 else keep):
                    found[id(item[0])] = item
            if len(found) >= limit:
                break
        return list(found.values())

    def _tiers(self, alert: Alert) -> Iterator[tuple[int, tuple[_Series, ...]]]:
        yield 0, (self.by_cell.get((alert.service, alert.environment), _EMPTY),)
        yield 1, (self.by_service.get(alert.service, _EMPTY),)
        yield 2, (self.by_env.get(alert.environment, _EMPTY), self.fleet)
        yield 3, (self.all,)


def _newest(
    s: _Series, lo: float, hi: float, limit: int, keep: Callable[[Change], bool] | None
) -> list[Found]:
    """Walking back from `hi`, the newest `limit` kept changes of each kind weight, and any
    as old as the last of them (equal scores are ordered by kind and summary, not by age)."""
    i, j = s.span(lo, hi)
    counts = [0, 0]  # by alters: False, True
    last = [math.inf, math.inf]
    out = []
    stamps, alters, changes = s.stamps, s.alters, s.changes
    for k in range(j - 1, i - 1, -1):
        at, a = stamps[k], alters[k]
        if counts[0] >= limit and counts[1] >= limit and at < last[0] and at < last[1]:
            break
        if (counts[a] >= limit and at < last[a]) or (keep is not None and not keep(changes[k])):
            continue
        counts[a] += 1
        last[a] = at
        out.append((changes[k], at, a))
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
