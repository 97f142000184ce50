"""Fixtures that start real services: a Prometheus holding canary metrics the tests control,
and an Alertmanager the tests post alerts to (`alertmanager_server`).

`prometheus_server` is reusable: give it OpenMetrics text (see promserver.openmetrics) and
it returns a started PrometheusServer, stopped at the end of the test. `canary_prometheus`
is one session-wide server with the canary data set below; `burn_prometheus` another, with
two hours of request and error counters for the SLO burn-rate rule.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.integration.amserver import AlertmanagerServer
from tests.integration.promserver import Labels, PrometheusServer, Samples, openmetrics

# (family, service, track) -> (unix seconds, value) samples, in time order
SampleSets = dict[tuple[str, str, str], list[tuple[int, float]]]

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

BURN_HISTORY = 2 * 3600  # past the 1h long window of the first page pair, short of 6h
# The share of the canary's requests that fail, per service; every baseline fails 0.01 %.
CANARY_ERRORS = {"cart": 0.02, "ledger": 0.0001}
BASELINE_ERRORS = 0.0001
REQUESTS = {"canary": (130, 170), "baseline": (400, 500)}  # per SPACING: ~10 and ~30 req/s


@dataclass(frozen=True)
class CanaryData:
    """A started Prometheus, the instant its newest samples are at, and every sample."""

    url: str
    now: datetime
    samples: SampleSets


def canary_samples(now: int, seed: int = SEED) -> SampleSets:
    """Gaussian samples every SPACING seconds over [now - HISTORY, now], clipped at zero."""
    rng = random.Random(seed)
    out: SampleSets = {}
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


@dataclass(frozen=True)
class BurnData:
    """A started Prometheus, its newest instant, and every counter and gauge sample."""

    url: str
    now: datetime
    counters: SampleSets
    gauges: SampleSets

    def increase(self, family: str, service: str, seconds: int) -> float:
        """The canary's events over the trailing window, counted from the samples."""
        values = dict(self.counters[(family, service, "canary")])
        end = int(self.now.timestamp())
        return values[end] - values[end - seconds]


def burn_samples(now: int, seed: int = SEED) -> tuple[SampleSets, SampleSets]:
    """Request and error counters (each request fails with its track's probability) and a
    latency gauge alike on both tracks, every SPACING seconds over [now - BURN_HISTORY, now]."""
    rng = random.Random(seed)
    instants = range(now - BURN_HISTORY, now + 1, SPACING)
    counters: SampleSets = {}
    gauges: SampleSets = {}
    for service, canary_errors in CANARY_ERRORS.items():
        for track, p in (("baseline", BASELINE_ERRORS), ("canary", canary_errors)):
            requests = errors = 0
            counters[("http_requests", service, track)] = req = []
            counters[("http_errors", service, track)] = err = []
            for i, t in enumerate(instants):
                if i:  # a counter's first sample is its start; events come in between
                    n = rng.randint(*REQUESTS[track])
                    requests += n
                    errors += sum(rng.random() < p for _ in range(n))
                req.append((t, float(requests)))
                err.append((t, float(errors)))
            gauges[("http_latency_p99_seconds", service, track)] = [
                (t, round(max(0.0, rng.gauss(0.250, 0.020)), 6)) for t in instants
            ]
    return counters, gauges


def families(samples: SampleSets) -> dict[str, dict[Labels, Samples]]:
    """Samples grouped as openmetrics() takes them, labelled with service, prod and track."""
    out: dict[str, dict[Labels, Samples]] = {}
    for (family, service, track), points in samples.items():
        labels = (("service", service), ("environment", "prod"), ("track", track))
        out.setdefault(family, {})[labels] = points
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
    text = openmetrics(families(samples))
    server = PrometheusServer(tmp_path_factory.mktemp("canary-prometheus"), text)
    server.start()
    try:
        yield CanaryData(server.url, datetime.fromtimestamp(now, UTC), samples)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def burn_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BurnData]:
    # As for canary_prometheus: the last two hours of real time, on whole minutes.
    now = int(time.time()) // 60 * 60
    counters, gauges = burn_samples(now)
    text = openmetrics(families(gauges), families(counters))
    server = PrometheusServer(tmp_path_factory.mktemp("burn-prometheus"), text)
    server.start()
    try:
        yield BurnData(server.url, datetime.fromtimestamp(now, UTC), counters, gauges)
    finally:
        server.stop()


@pytest.fixture
def alertmanager_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertmanagerServer]:
    """A started Alertmanager of its own per test (silences live in its storage)."""
    server = AlertmanagerServer(tmp_path_factory.mktemp("alertmanager"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
