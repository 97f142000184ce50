"""The TUI's change recorder and verdict history, built after the first frame, end up with
exactly what they would have noted had they watched from the first snapshot."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from cockpit import app_watch, config
from cockpit.app_watch import Watchers
from cockpit.clock import FixedClock
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.fleet.verdict_history import VerdictHistory
from cockpit.incident.recorder import ChangeRecorder
from cockpit.wiring import make_hub
from tests.fakes import polled_demo

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


async def _watched(build_after: int) -> tuple[Watchers, ChangeRecorder, VerdictHistory]:
    """The demo fleet over 6 minutes, watched by Watchers (built after `build_after`
    snapshots) and by a recorder and a history subscribed from the start."""
    clock = FixedClock(T0)
    hub = make_hub(config.load(None, seed=7, scale=12, env={}), clock=clock, live=False)
    watchers, recorder, verdicts = Watchers(), ChangeRecorder(), VerdictHistory()
    seen: list[FleetSnapshot] = []
    for observe in (watchers.observe, recorder.observe, verdicts.observe, seen.append):
        hub.subscribe(observe)
    await hub.start()
    try:
        for _ in range(24):
            await hub.refresh()
            clock.advance(15)
            if len(seen) >= build_after:
                watchers.build()
    finally:
        await hub.stop()
    assert len(seen) > build_after
    return watchers, recorder, verdicts


async def test_watchers_built_late_note_what_watchers_from_the_start_note() -> None:
    for build_after in (0, 1, 8, 16):
        watchers, recorder, verdicts = await _watched(build_after)
        assert watchers.recorder.changes() == recorder.changes()
        assert watchers.verdicts.judged() == verdicts.judged()
        for key in verdicts.judged():
            assert watchers.verdicts.last(*key) == verdicts.last(*key)
    assert recorder.changes() and verdicts.judged()  # the run had something to compare


async def test_watchers_never_keep_more_than_a_few_snapshots_waiting() -> None:
    # A settled start at 50,000 services publishes ~50 snapshots before its first frame, each
    # a whole fleet: kept for the watchers, they held ~230 MB until it was up.
    wait_at_most = getattr(app_watch, "WAIT_AT_MOST", 4)
    watchers, recorder = Watchers(), ChangeRecorder()
    _, published = await polled_demo(FixedClock(T0), 12, watchers.observe, recorder.observe)
    gc.collect()
    alive = sum(ref() is not None for ref in published)
    assert len(published) > 2 * wait_at_most and alive <= wait_at_most + 1  # + the hub's newest
    assert watchers.recorder.changes() == recorder.changes()  # and they still saw them all
