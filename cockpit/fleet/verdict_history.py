"""Each canary's last few verdicts, kept after the canary ends or is rolled back.

The hub's snapshot holds only the canaries a source reports now; an aborted canary may be
gone at the next poll, and with it the verdicts that explain why. This keeps them, bounded.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime

from cockpit.fleet.snapshot import FleetSnapshot

Key = tuple[str, str]  # (service, environment)


@dataclass(frozen=True, slots=True)
class Judged:
    """One decision of the judge on one canary version."""

    at: datetime  # the newest sample the verdict rests on (when it was judged, without one)
    version: str
    decision: str
    score: float


class VerdictHistory:
    """The last `keep` verdicts of the `canaries` most recently judged (service, environment)s."""

    def __init__(self, keep: int = 5, canaries: int = 200) -> None:
        self.keep = keep
        self.canaries = canaries
        self._by_key: OrderedDict[Key, deque[Judged]] = OrderedDict()

    def observe(self, snapshot: FleetSnapshot) -> None:
        """Note every verdict in `snapshot` that differs from the last one kept."""
        for canary in snapshot.canaries:
            verdict = canary.verdict
            if verdict is None:
                continue
            entry = Judged(
                verdict.observed_at or canary.observed_at,
                canary.canary_version,
                verdict.decision,
                verdict.score,
            )
            kept = self._by_key.get(canary.key)
            if kept is None:
                kept = self._by_key[canary.key] = deque(maxlen=self.keep)
                while len(self._by_key) > self.canaries:
                    self._by_key.popitem(last=False)
            else:
                self._by_key.move_to_end(canary.key)
            if not kept or kept[-1] != entry:
                kept.append(entry)

    def last(self, service: str, environment: str) -> tuple[Judged, ...]:
        """Oldest first."""
        return tuple(self._by_key.get((service, environment), ()))

    def judged(self) -> list[Key]:
        """Every (service, environment) with a verdict kept, least recently judged first."""
        return list(self._by_key)
