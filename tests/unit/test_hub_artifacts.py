"""The image digests a connector may read before its poll (`Connector.known_artifacts`) are
worked out on demand, without keeping the snapshot they come from alive."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime

from cockpit import config
from cockpit.clock import FixedClock
from cockpit.fleet.artifacts import known_artifacts
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.wiring import make_hub

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


async def test_a_connector_that_never_reads_the_artifacts_keeps_no_old_snapshot() -> None:
    # Each connector is handed the lazy digests before each poll and keeps them until its
    # next one: holding the snapshot, that kept a whole old fleet alive per connector.
    clock = FixedClock(T0)
    hub = make_hub(config.load(None, seed=7, scale=12, env={}), clock=clock, live=False)
    published: list[weakref.ref[FleetSnapshot]] = []
    hub.subscribe(lambda snapshot: published.append(weakref.ref(snapshot)))
    await hub.start()
    try:
        for _ in range(6):
            await hub.refresh()
            clock.advance(15)
        gc.collect()
        alive = [ref() for ref in published if ref() is not None]
        assert len(published) >= 6 and alive == [hub.snapshot]
        # Read now, the digests are the fleet's as the hub has it.
        demo = hub.connector("demo")
        assert demo is not None
        assert demo.known_artifacts == known_artifacts(hub.snapshot)
    finally:
        await hub.stop()
