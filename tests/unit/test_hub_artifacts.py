"""The image digests a connector may read before its poll (`Connector.known_artifacts`) are
worked out on demand, without keeping the snapshot they come from alive."""

from __future__ import annotations

import gc

from cockpit.clock import FixedClock
from cockpit.fleet.artifacts import known_artifacts
from tests.fakes import T0, polled_demo


async def test_a_connector_that_never_reads_the_artifacts_keeps_no_old_snapshot() -> None:
    # Each connector is handed the lazy digests before each poll and keeps them until its
    # next one: holding the snapshot, that kept a whole old fleet alive per connector.
    hub, published = await polled_demo(FixedClock(T0), 6)
    gc.collect()
    alive = [ref() for ref in published if ref() is not None]
    assert len(published) >= 6 and alive == [hub.snapshot]
    # Read now, the digests are the fleet's as the hub has it.
    demo = hub.connector("demo")
    assert demo is not None
    assert demo.known_artifacts == known_artifacts(hub.snapshot)
