"""What watches every snapshot the hub publishes, from the first, for the TUI.

The change recorder notes what facts carry no time for (drift appearing, a canary's step):
the Incident view's "what changed". The verdict history keeps each canary's last verdicts
past its end, for the Canary view. Neither is drawn on the first frame, so they (and their
imports) are built once it is up, or when first asked; the snapshots published before wait
and are given to them in order, so they see exactly what they would have from the start.
A start that publishes more than a few before its first frame (a settled start reading a
large history in chunks) builds them then instead: each waiting snapshot is a whole fleet.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.fleet.verdict_history import VerdictHistory
    from cockpit.incident.recorder import ChangeRecorder


# Snapshots kept for the watchers before they are built: plain `cockpit` publishes one or
# two before its first frame; at 50,000 services each is ~5 MB that would outlive its turn.
WAIT_AT_MOST = 4


class Watchers:
    """Subscribe `observe` to the hub; `recorder` and `verdicts` are built when first read."""

    def __init__(self) -> None:
        self._waiting: list[FleetSnapshot] | None = []

    def observe(self, snapshot: FleetSnapshot) -> None:
        waiting = self._waiting
        if waiting is None:
            _give(self._built, snapshot)
        elif len(waiting) < WAIT_AT_MOST:
            waiting.append(snapshot)
        else:
            self.build()
            _give(self._built, snapshot)

    @cached_property
    def _built(self) -> tuple[ChangeRecorder, VerdictHistory]:
        from cockpit.fleet.verdict_history import VerdictHistory
        from cockpit.incident.recorder import ChangeRecorder

        built = ChangeRecorder(), VerdictHistory()
        waiting, self._waiting = self._waiting or [], None
        for snapshot in waiting:
            _give(built, snapshot)
        return built

    def build(self) -> None:
        """Build them now (the app: once its first frame is up)."""
        self._built  # noqa: B018 - the cached property builds and replays

    @property
    def recorder(self) -> ChangeRecorder:
        return self._built[0]

    @property
    def verdicts(self) -> VerdictHistory:
        return self._built[1]


def _give(built: tuple[ChangeRecorder, VerdictHistory], snapshot: FleetSnapshot) -> None:
    recorder, verdicts = built
    recorder.observe(snapshot)
    verdicts.observe(snapshot)  # every snapshot, even ones coalesced away
