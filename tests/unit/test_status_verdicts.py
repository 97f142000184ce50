"""`cockpit status` and the TUI give the same canary verdict for the same fleet and config."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec, PolicyConfig
from cockpit.connector import Capability, Connector
from cockpit.fleet.analysis import CanaryConfig
from cockpit.model import CanaryMetrics, MetricSeries, Observation
from cockpit.status import fleet_snapshot, snapshot_json
from tests.app.helpers import T0


@dataclass
class LifetimeOptions:
    pass


class Lifetime(Connector):
    """A metrics source that, like Prometheus, can only query a canary it knows: the
    series cover the canary's lifetime and need its versions (none before it is known)."""

    CAPABILITIES = frozenset({Capability.METRICS})
    Options = LifetimeOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        now = self.clock.now()
        out = []
        for c in self.known_canaries:
            if (c.service, c.environment) != ("checkout", "prod"):
                continue
            n = int((now - c.started_at).total_seconds() // 2)
            rng = random.Random(5)
            series = MetricSeries(
                "latency",
                "ms",
                tuple(c.started_at + timedelta(seconds=2 * i) for i in range(n)),
                tuple(rng.gauss(100, 5) for _ in range(n)),
                tuple(rng.gauss(130, 5) for _ in range(n)),  # 30 % slower: a failing canary
                critical=True,
            )
            out.append(CanaryMetrics(c.service, c.environment, (series,), self.name, now))
        return Observation(self.name, now, metrics=tuple(out))


def settings(tmp_path: Path) -> config.Settings:
    demo = config.load(None, seed=7, scale=12, env={})
    prom = ConnectorSpec("prom", "lifetime", Lifetime, LifetimeOptions(), 10.0, 5.0, 30.0)
    return replace(
        demo,
        connectors=(*demo.connectors, prom),
        canary=CanaryConfig(min_points=60, marginal=60, passing=90),
        policy=PolicyConfig(),  # no automatic rollback: the verdict stays to be compared
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
    )


async def tui_verdict(s: config.Settings) -> dict[str, Any]:
    app = CockpitApp(s, clock=FixedClock(T0), poll=False)
    async with app.run_test(size=(120, 36)) as pilot:
        # Take in every snapshot before leaving: a FleetUpdated handled during shutdown
        # finds no screen.
        while getattr(app.screen, "generation", None) != app.hub.snapshot.generation:
            await pilot.pause()
        canary = app.hub.snapshot.cell("checkout", "prod").canary
        assert canary is not None and canary.verdict is not None
        v = canary.verdict
        return {"decision": v.decision, "score": v.score, "digest": v.digest}


async def test_status_and_the_tui_give_the_same_verdict_for_the_same_fleet_and_config(
    tmp_path: Path,
) -> None:
    s = settings(tmp_path)
    snap = await fleet_snapshot(s, FixedClock(T0))
    (status,) = [
        c["verdict"]
        for c in snapshot_json(snap, T0, "x")["canaries"]
        if (c["service"], c["environment"]) == ("checkout", "prod")
    ]
    tui = await tui_verdict(s)
    assert status == tui
    # The metrics source's series (over the canary's lifetime) were judged, with the
    # config's thresholds: the demo's own series would pass this canary.
    assert status["decision"] == "fail"
    assert snap.cell("checkout", "prod").canary.verdict.passing == 90  # type: ignore[union-attr]
