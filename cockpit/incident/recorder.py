"""Notes the changes the facts carry no time for, by watching each snapshot the hub publishes.

Drift, a canary's step and weight, a deployment's health: connectors report what they are,
not when they became so. The recorder compares each changed cell with what it saw before
and notes the transition at the snapshot's time (when it was seen, at most a poll late).
A cell seen for the first time is only remembered: nobody knows when that state began.
It also remembers each firing alert it saw and when it stopped firing: Alertmanager lists
only active alerts, so a resolved one is known only to whoever watched it go.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cockpit.fleet.cells import Cell, Key
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.incident.changes import OBSERVED, Change, ChangeKind
from cockpit.model import Alert, Health

LIMIT = 10_000
KEEP = timedelta(hours=24)
CanaryState = tuple[str, int, int, int, str] | None  # version, step, steps, weight, phase


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the recorder compares in one cell."""

    drift: int  # items
    drift_first: str  # the first differing resource and path, for the words
    canary: CanaryState
    health: Health | None
    version: str

    @staticmethod
    def of(cell: Cell) -> _Seen:
        drift = cell.drift.items if cell.drift else ()
        first = f"{drift[0].resource} {drift[0].path}" if drift else ""
        c = cell.canary
        canary = (c.canary_version, c.step, c.steps, c.weight, c.phase.value) if c else None
        dep = cell.deployment
        return _Seen(
            len(drift), first, canary, dep.health if dep else None, dep.version if dep else ""
        )


@dataclass(frozen=True, slots=True)
class SeenAlert:
    """A firing alert as seen: it carries its start; `resolved_at` is when it stopped firing."""

    alert: Alert
    resolved_at: datetime | None = None


def alert_key(a: Alert) -> tuple[str, ...]:
    """One alert firing once: a re-fire has a new start, so it is a new one."""
    who = (a.fingerprint,) if a.fingerprint else (a.name, a.service, a.environment)
    return (*who, a.started_at.isoformat())


class ChangeRecorder:
    """Fed every published snapshot (`hub.subscribe(recorder.observe)`); bounded in count and age."""

    def __init__(self, *, limit: int = LIMIT, keep: timedelta = KEEP) -> None:
        self._seen: dict[Key, _Seen] = {}
        self._notes: deque[Change] = deque(maxlen=limit)
        self._keep = keep
        self._generation: int | None = None
        self._firing: dict[tuple[str, ...], Alert] = {}
        self._alerts: dict[tuple[str, ...], SeenAlert] = {}  # oldest first
        self._limit = limit

    def __len__(self) -> int:
        return len(self._notes)

    def changes(self, since: datetime | None = None, until: datetime | None = None) -> list[Change]:
        """The transitions noted in [since, until], oldest first."""
        return [
            c
            for c in self._notes
            if (since is None or c.at >= since) and (until is None or c.at <= until)
        ]

    def alerts(self) -> list[SeenAlert]:
        """Every firing alert seen (within the bounds), in the order first seen."""
        return list(self._alerts.values())

    def observe(self, snapshot: FleetSnapshot) -> None:
        continuous = (
            self._generation is not None
            and snapshot.generation == self._generation + 1
            and not snapshot.changes.everything
        )
        self._generation = snapshot.generation
        # Only the cells this snapshot changed, unless one was missed (then all of them).
        keys = snapshot.changes.cells if continuous else {*snapshot.cells, *self._seen}
        at = snapshot.taken_at
        for key in keys:
            cell = snapshot.cells.get(key)
            if cell is None:
                self._seen.pop(key, None)
                continue
            now = _Seen.of(cell)
            before = self._seen.get(key)
            self._seen[key] = now
            if before is not None and before != now:
                self._notes.extend(_transitions(key, before, now, at))
        if not continuous or snapshot.changes.other:
            self._watch_alerts(snapshot)
        horizon = at - self._keep
        while self._notes and self._notes[0].at < horizon:
            self._notes.popleft()

    def _watch_alerts(self, snapshot: FleetSnapshot) -> None:
        at = snapshot.taken_at
        firing = {alert_key(a): a for a in snapshot.alerts if a.firing}
        for key, a in firing.items():
            if key not in self._alerts:
                self._alerts[key] = SeenAlert(a)
        for key in self._firing.keys() - firing.keys():
            seen = self._alerts.get(key)
            if seen is not None:
                self._alerts[key] = SeenAlert(seen.alert, at)
        self._firing = firing
        horizon = at - self._keep
        stale = [
            k
            for k, s in self._alerts.items()
            if s.resolved_at is not None and s.resolved_at < horizon
        ]
        for key in stale:
            del self._alerts[key]
        while len(self._alerts) > self._limit:
            del self._alerts[next(iter(self._alerts))]


def _transitions(key: Key, old: _Seen, new: _Seen, at: datetime) -> list[Change]:
    service, env = key

    def note(kind: ChangeKind, summary: str, version: str = "", previous: str = "") -> Change:
        return Change(at, kind, service, env, summary, OBSERVED, version, previous)

    out = []
    if not old.drift and new.drift:
        out.append(
            note(ChangeKind.DRIFT, f"drift appeared: {new.drift} item(s), {new.drift_first}")
        )
    elif old.drift and not new.drift:
        out.append(note(ChangeKind.DRIFT, "drift resolved: live matches desired again"))
    out.extend(_canary(old.canary, new.canary, note))
    if old.health != new.health and Health.DEGRADED in (old.health, new.health):
        was = old.health.value if old.health else "unknown"
        is_ = new.health.value if new.health else "unknown"
        out.append(note(ChangeKind.HEALTH, f"health {was} → {is_}", new.version or old.version))
    return out


def _canary(old: CanaryState, new: CanaryState, note: Callable[..., Change]) -> list[Change]:
    if old is None:
        return []  # a new canary carries its own start time: the facts list it
    version, step, steps, weight, phase = old
    if new is None:
        return [note(ChangeKind.CANARY, f"canary {version} ended", version)]
    if new[0] != version:
        return [note(ChangeKind.CANARY, f"canary {version} replaced by {new[0]}", new[0], version)]
    words = []
    if (new[1], new[2]) != (step, steps):
        words.append(f"step {step}/{steps} → {new[1]}/{new[2]}")
    if new[3] != weight:
        words.append(f"weight {weight}% → {new[3]}%")
    if new[4] != phase:
        words.append(f"{phase} → {new[4]}")
    return (
        [note(ChangeKind.CANARY, f"canary {version} " + ", ".join(words), version)] if words else []
    )
