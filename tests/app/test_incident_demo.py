"""The demo's incident story (headless): alerts that follow a change, silences, a marginal
canary before it fails, and an alert that resolves after the rollback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cockpit import config
from cockpit.clock import FixedClock
from cockpit.errors import Rejected
from cockpit.fleet.analysis import decision_of
from cockpit.fleet.hub import Hub
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, Severity
from cockpit.wiring import make_hub
from connectors.demo import DemoConnector, DemoOptions
from connectors.demo.sim_alerts import fingerprint
from tests.app.helpers import T0

SEARCH = fingerprint("search", "prod", "HighErrorRate")


def demo(clock: FixedClock) -> DemoConnector:
    return DemoConnector("demo", DemoOptions(), client=None, clock=clock)


def hub_on_demo(clock: FixedClock, seed: int = 7) -> Hub:
    return make_hub(config.load(None, seed=seed, scale=12, env={}), clock=clock)


def firing(snap: FleetSnapshot, service: str) -> list[str]:
    return [a.name for a in snap.alerts if a.service == service and a.firing]


async def test_the_demo_starts_with_an_alert_after_a_prod_deploy_and_an_unrelated_warning() -> None:
    clock = FixedClock(T0)
    obs = await demo(clock).poll()
    alerts = {a.service: a for a in obs.alerts}
    search = alerts["search"]
    deployed = next(d for d in obs.deployments if d.key == ("search", "prod"))
    assert search.severity is Severity.CRITICAL and search.name == "HighErrorRate"
    assert deployed.deployed_at < search.started_at, "the alert starts after the deploy"
    assert search.started_at - deployed.deployed_at == timedelta(minutes=8)
    assert search.fingerprint and ("alertname", "HighErrorRate") in search.labels
    warning = alerts["ledger"]
    assert warning.severity is Severity.WARNING and warning.environment == "prod"


async def test_the_bad_canary_is_marginal_for_at_least_30_seconds_before_it_fails() -> None:
    for seed in (7, 1, 3, 5):  # the default and seeds that fail soonest
        clock = FixedClock(T0)
        hub = hub_on_demo(clock, seed)
        await hub.settle()
        seen: dict[str, int] = {}
        for second in range(400):
            canary = hub.snapshot.cell("payments", "prod").canary
            assert canary is not None and canary.verdict is not None
            seen.setdefault(decision_of(canary.verdict), second)
            if "fail" in seen:
                break
            clock.advance(1)
            await hub.refresh()
        assert seen["pass"] == 0, seed
        assert seen["fail"] - seen["marginal"] >= 30, (seed, seen)


async def test_a_critical_alert_fires_on_the_failing_canary_and_resolves_after_rollback() -> None:
    clock = FixedClock(T0)
    connector = demo(clock)
    obs = await connector.poll()
    assert not [a for a in obs.alerts if a.service == "payments"]
    clock.advance(240)
    obs = await connector.poll()
    alert = next(a for a in obs.alerts if a.service == "payments")
    canary = next(c for c in obs.canaries if c.service == "payments")
    assert alert.name == "HighErrorRate" and alert.severity is Severity.CRITICAL
    assert alert.environment == "prod" and alert.started_at > canary.started_at
    await connector.execute(Action(ActionKind.ROLLBACK, "payments", "prod", source="demo"))
    clock.advance(30)
    assert [a for a in (await connector.poll()).alerts if a.service == "payments"], (
        "the error ratio takes a minute to fall under its threshold"
    )
    clock.advance(31)
    assert not [a for a in (await connector.poll()).alerts if a.service == "payments"]


async def test_the_search_alert_resolves_after_its_deploy_is_rolled_back() -> None:
    clock = FixedClock(T0)
    connector = demo(clock)
    obs = await connector.poll()
    dep = next(d for d in obs.deployments if d.key == ("search", "prod"))
    back = Action(
        ActionKind.ROLLBACK, "search", "prod", source="demo", version=dep.history[0].version
    )
    await connector.execute(back)
    clock.advance(61)
    assert "search" not in {a.service for a in (await connector.poll()).alerts}


async def test_silence_marks_the_alert_until_expired_or_unsilenced() -> None:
    clock = FixedClock(T0)
    connector = demo(clock)
    alert = next(a for a in (await connector.poll()).alerts if a.service == "search")
    assert not alert.silenced
    silence = Action(
        ActionKind.SILENCE,
        "search",
        "prod",
        source="demo",
        remote_id=alert.fingerprint,
        actor="alice",
        params=(("duration", "30m"),),
    )
    result = await connector.execute(silence)
    silenced = next(a for a in (await connector.poll()).alerts if a.service == "search")
    assert silenced.silenced_by == (result.remote_id,) and silenced.firing
    clock.advance(30 * 60 + 1)
    assert not next(a for a in (await connector.poll()).alerts if a.service == "search").silenced
    again = await connector.execute(silence)
    await connector.execute(
        Action(ActionKind.UNSILENCE, "search", "prod", source="demo", remote_id=again.remote_id)
    )
    assert not next(a for a in (await connector.poll()).alerts if a.service == "search").silenced


@pytest.mark.parametrize(
    ("duration", "remote_id"), [("soon", SEARCH), ("2h", "not-an-alert")], ids=["bad", "gone"]
)
async def test_a_silence_with_a_bad_duration_or_a_gone_alert_is_rejected(
    duration: str, remote_id: str
) -> None:
    connector = demo(FixedClock(T0))
    await connector.poll()
    silence = Action(
        ActionKind.SILENCE,
        "search",
        "prod",
        source="demo",
        remote_id=remote_id,
        params=(("duration", duration),),
    )
    with pytest.raises(Rejected, match="duration" if duration == "soon" else "no longer fires"):
        await connector.execute(silence)
