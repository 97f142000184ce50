"""The Prometheus connector (and the canary judge) against a real Prometheus and known data."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.model import Canary, CanaryMetrics, CanaryPhase, MetricSeries
from connectors.prometheus import PrometheusConnector, PrometheusOptions
from tests.integration.conftest import HISTORY, SPACING, CanaryData
from tests.integration.promserver import PrometheusServer, openmetrics

pytestmark = pytest.mark.integration

SERVICES = ("checkout", "payments", "search")
POINTS = HISTORY // SPACING + 1  # start and end are both included


def options(url: str) -> PrometheusOptions:
    where = 'service="{service}",environment="{environment}",{selector}'
    metrics = [
        {
            "name": "error ratio",
            "query": "http_error_ratio{" + where + "}",
            "critical": True,
            "group": "errors",
        },
        {
            "name": "p99 latency",
            "query": "max(http_latency_p99_seconds{" + where + "})",
            "unit": "s",
            "group": "latency",
        },
    ]
    canaries = [{"service": s, "environment": "prod", "metrics": metrics} for s in SERVICES]
    return opt.parse(PrometheusOptions, {"url": url, "timeout": "10s", "canaries": canaries})


def canary(data: CanaryData, service: str) -> Canary:
    return Canary(
        service=service,
        environment="prod",
        baseline_version="3.7.0",
        canary_version="3.8.0",
        step=3,
        steps=6,
        weight=25,
        phase=CanaryPhase.PAUSED,
        started_at=data.now - timedelta(seconds=HISTORY),
        source="rollouts",
        observed_at=data.now,
    )


async def measured(data: CanaryData) -> dict[str, CanaryMetrics]:
    connector = PrometheusConnector(
        "prom", options(data.url), client=None, clock=FixedClock(data.now)
    )
    connector.known_canaries = tuple(canary(data, s) for s in SERVICES)
    try:
        return {m.service: m for m in await connector.metrics()}
    finally:
        await connector.aclose()


def values(data: CanaryData, gauge: str, service: str, track: str) -> tuple[float, ...]:
    return tuple(v for _, v in data.samples[(gauge, service, track)])


async def test_healthy_canary_series_hold_the_controlled_samples(
    canary_prometheus: CanaryData,
) -> None:
    checkout = (await measured(canary_prometheus))["checkout"]
    assert checkout.error == "" and checkout.canary_version == "3.8.0"
    errors, latency = checkout.metrics
    assert len(errors.times) == POINTS == len(errors.baseline) == len(errors.canary)
    assert errors.times[0] == canary_prometheus.now - timedelta(seconds=HISTORY)
    assert errors.times[-1] == canary_prometheus.now
    assert errors.baseline == values(canary_prometheus, "http_error_ratio", "checkout", "baseline")
    assert errors.canary == values(canary_prometheus, "http_error_ratio", "checkout", "canary")
    assert latency.canary == values(
        canary_prometheus, "http_latency_p99_seconds", "checkout", "canary"
    )
    assert abs(statistics.fmean(errors.canary) - 0.010) < 0.001


async def test_raised_error_rate_shows_in_the_canary_series(canary_prometheus: CanaryData) -> None:
    errors = (await measured(canary_prometheus))["payments"].metrics[0]
    assert len(errors.canary) == POINTS
    assert statistics.fmean(errors.canary) > 3 * statistics.fmean(errors.baseline)


async def test_missing_canary_series_is_no_data(canary_prometheus: CanaryData) -> None:
    search = (await measured(canary_prometheus))["search"]
    assert search.error == ""  # no data is not an error
    for series in search.metrics:
        assert series.canary == () and len(series.baseline) == POINTS


async def test_judge_passes_healthy_fails_raised_and_never_passes_missing(
    canary_prometheus: CanaryData,
) -> None:
    import cockpit.judge as judge

    decisions = {}
    for service, result in (await measured(canary_prometheus)).items():
        inputs = [judge_input(judge, series) for series in result.metrics]
        decisions[service] = judge.judge(inputs, judge.JudgeConfig(min_points=POINTS)).decision
    assert decisions["checkout"] == "pass"
    assert decisions["payments"] == "fail"
    assert decisions["search"] != "pass"


def judge_input(judge: Any, series: MetricSeries) -> Any:
    return judge.MetricInput(
        name=series.name,
        baseline=series.baseline,
        canary=series.canary,
        direction=series.direction,
        critical=series.critical,
        group=series.group,
        unit=series.unit,
    )


async def test_the_reusable_fixture_serves_other_data(
    prometheus_server: Callable[[str], PrometheusServer],
) -> None:
    """A second server with its own samples: NaN and +Inf come back through the connector."""
    start = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    t = int(start.timestamp())
    samples = [(t, 3.0), (t + 15, math.nan), (t + 30, math.inf)]
    server = prometheus_server(openmetrics({"queue_depth": {(("track", "baseline"),): samples}}))
    connector = PrometheusConnector(
        "prom", options(server.url), client=None, clock=FixedClock(start)
    )
    try:
        points = await connector.queries.series(
            "queue_depth", start, start + timedelta(seconds=30), 15
        )
    finally:
        await connector.aclose()
    assert points[0] == (t, 3.0) and math.isnan(points[1][1]) and points[2] == (t + 30, math.inf)
