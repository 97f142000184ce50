"""Fixtures that start real services: a Prometheus holding canary metrics the tests control.

`prometheus_server` is reusable: give it OpenMetrics text (see promserver.openmetrics) and
it returns a started PrometheusServer, stopped at the end of the test. `canary_prometheus`
is one session-wide server with the canary data set below.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.integration.promserver import Labels, PrometheusServer, Samples, openmetrics

SPACING = 15  # seconds between samples, a common scrape interval
HISTORY = 30 * 60  # the canary's age, and how far back the samples go
SEED = 20260115

# (service, track) -> (mean, sd) of each gauge; search's canary has no series at all.
ERROR_RATIO = {
    ("checkout", "baseline"): (0.010, 0.0015),
    ("checkout", "canary"): (0.010, 0.0015),
    ("payments", "baseline"): (0.010, 0.0015),
    ("payments", "canary"): (0.045, 0.004),  # the raised error rate
    ("search", "baseline"): (0.010, 0.0015),
}
LATENCY_P99 = {key: (0.250, 0.020) for key in ERROR_RATIO}


@dataclass(frozen=True)
class CanaryData:
    """A started Prometheus, the instant its newest samples are at, and every sample."""

    url: str
    now: datetime
    samples: dict[tuple[str, str, str], list[tuple[int, float]]]  # (gauge, service, track)


def canary_samples(
    now: int, seed: int = SEED
) -> dict[tuple[str, str, str], list[tuple[int, float]]]:
    """Gaussian samples every SPACING seconds over [now - HISTORY, now], clipped at zero."""
    rng = random.Random(seed)
    out: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    instants = range(now - HISTORY, now + 1, SPACING)
    for gauge, shapes in (
        ("http_error_ratio", ERROR_RATIO),
        ("http_latency_p99_seconds", LATENCY_P99),
    ):
        for (service, track), (mean, sd) in shapes.items():
            out[(gauge, service, track)] = [
                (t, round(max(0.0, rng.gauss(mean, sd)), 6)) for t in instants
            ]
    return out


@pytest.fixture
def prometheus_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], PrometheusServer]]:
    started: list[PrometheusServer] = []

    def start(text: str) -> PrometheusServer:
        server = PrometheusServer(tmp_path_factory.mktemp("prometheus"), text)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def canary_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryData]:
    # The last half hour of real time, as a live canary's metrics are (blocks this recent
    # are the case promtool's backfilling warns about). The connector gets a FixedClock at
    # `now`; whole minutes keep every sample on its 15 s query grid.
    now = int(time.time()) // 60 * 60
    samples = canary_samples(now)
    gauges: dict[str, dict[Labels, Samples]] = {}
    for (gauge, service, track), points in samples.items():
        labels = (("service", service), ("environment", "prod"), ("track", track))
        gauges.setdefault(gauge, {})[labels] = points
    server = PrometheusServer(tmp_path_factory.mktemp("canary-prometheus"), openmetrics(gauges))
    server.start()
    try:
        yield CanaryData(server.url, datetime.fromtimestamp(now, UTC), samples)
    finally:
        server.stop()
