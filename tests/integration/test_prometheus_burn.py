"""The SLO burn-rate rule fed by a real Prometheus: counters in, a page-tier trip out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.fleet.analysis import Analyst, CanaryConfig
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import Canary, CanaryMetrics, CanaryPhase, Environment, Observation
from connectors.prometheus import PrometheusConnector, PrometheusOptions
from tests.integration.conftest import BURN_HISTORY, CANARY_ERRORS, BurnData

pytestmark = pytest.mark.integration

WINDOWS = {"5m": 300, "30m": 1800, "1h": 3600, "6h": 21600, "3d": 259200}
WHERE = 'service="{service}",environment="{environment}",{selector}'


def options(url: str) -> PrometheusOptions:
    latency = {
        "name": "p99 latency",
        "query": "max(http_latency_p99_seconds{" + WHERE + "})",
        "unit": "s",
        "critical": True,
    }
    burn = {
        "slo": 0.999,
        "errors": "sum(increase(http_errors_total{" + WHERE + "}[{window}]))",
        "total": "sum(increase(http_requests_total{" + WHERE + "}[{window}]))",
    }
    canaries = [
        {"service": s, "environment": "prod", "metrics": [latency], "burn": burn}
        for s in CANARY_ERRORS
    ]
    return opt.parse(PrometheusOptions, {"url": url, "timeout": "10s", "canaries": canaries})


def canary(data: BurnData, service: str) -> Canary:
    return Canary(
        service=service,
        environment="prod",
        baseline_version="5.2.0",
        canary_version="5.3.0",
        step=4,
        steps=6,
        weight=25,
        phase=CanaryPhase.PROGRESSING,
        started_at=data.now - timedelta(seconds=BURN_HISTORY),
        source="rollouts",
        observed_at=data.now,
    )


async def measured(data: BurnData) -> dict[str, CanaryMetrics]:
    connector = PrometheusConnector(
        "prom", options(data.url), client=None, clock=FixedClock(data.now)
    )
    connector.known_canaries = tuple(canary(data, s) for s in CANARY_ERRORS)
    try:
        return {m.service: m for m in await connector.metrics()}
    finally:
        await connector.aclose()


async def test_burn_windows_count_the_canary_requests(burn_prometheus: BurnData) -> None:
    results = await measured(burn_prometheus)
    for service, share in CANARY_ERRORS.items():
        result = results[service]
        assert result.error == "" and result.slo == 0.999
        assert [w.seconds for w in result.burn] == list(WINDOWS.values())
        for w in result.burn[:3]:  # the windows within the two hours of data
            seconds = int(w.seconds)
            # increase() may extrapolate a sample interval at the edges (Prometheus 3
            # leaves the range's first instant out); the counts are otherwise exact.
            expected_total = burn_prometheus.increase("http_requests", service, seconds)
            expected_errors = burn_prometheus.increase("http_errors", service, seconds)
            assert w.total == pytest.approx(expected_total, rel=0.01), (service, seconds)
            assert w.errors == pytest.approx(expected_errors, rel=0.01, abs=0.5)
        hour = result.burn[2]
        # Only the canary's series: the baseline's healthy traffic would dilute cart's 2 %.
        assert hour.errors / hour.total == pytest.approx(share, rel=0.25, abs=0.0003)


async def test_two_percent_errors_page_and_roll_back_a_healthy_looking_canary(
    burn_prometheus: BurnData,
) -> None:
    results = await measured(burn_prometheus)
    now = burn_prometheus.now
    canaries = tuple(canary(burn_prometheus, s) for s in CANARY_ERRORS)
    snap = FleetSnapshot.empty((Environment("prod", 0, True),), now)
    for obs in (
        Observation("rollouts", now, canaries=canaries),
        Observation("prom", now, metrics=tuple(results.values())),
    ):
        state = SourceState(obs.source, "x", True, now, now, "", 0, 60)
        snap = snap.with_observation(obs, state, now)
    analyst = Analyst(CanaryConfig())
    judged = {c.service: c for c in analyst.apply(snap).canaries}

    cart, ledger = judged["cart"].verdict, judged["ledger"].verdict
    assert cart is not None and ledger is not None
    # The latency series alone pass: the error budget is what fails cart.
    alone = analyst.verdict(canaries[0], results["cart"].metrics)
    assert alone.decision == "pass"
    assert cart.decision == "fail" and cart.score == 0
    # 2 % errors against a 0.1 % budget burn at ~20x in both the 1h and 5m windows; the
    # 6h/30m pair (threshold 6x) is skipped, six hours being older than the canary.
    assert cart.reason.startswith("error budget burning fast: page ")
    assert cart.reason.endswith(" over 14.4x"), cart.reason
    assert ledger.decision == "pass", ledger.reason
