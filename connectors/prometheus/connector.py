"""The Prometheus connector: baseline and canary series for the judge, and SLO burn windows."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import UTC, datetime

from cockpit.clock import Clock
from cockpit.connect.http_tls import requests_settings
from cockpit.connector import Capability, Connector
from cockpit.model import BurnWindow, Canary, CanaryMetrics, MetricSeries
from connectors.prometheus.client import Points, Queries, QueryProblem
from connectors.prometheus.options import (
    BurnOptions,
    CanaryOptions,
    MetricOptions,
    PrometheusOptions,
)

NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
TARGET_POINTS = 150  # with NICE_STEPS at most 2.5 apart, a window gets 60 to 150 points
MAX_POINTS = 11_000  # Prometheus refuses a range query with more points per series
MIN_SPAN = 60.0  # a canary younger than this is looked at over its last minute anyway


def auto_step(span: float) -> float:
    target = span / TARGET_POINTS
    return float(next((s for s in NICE_STEPS if s >= target), math.ceil(target)))


def window(
    now: datetime, started_at: datetime | None, options: PrometheusOptions
) -> tuple[datetime, datetime, float]:
    """Start, end and step of the range query over a canary's lifetime (or the lookback)."""
    if started_at is None:
        span = float(options.lookback)
    else:
        span = min(max((now - started_at).total_seconds(), MIN_SPAN), float(options.max_window))
    step = float(options.step) if options.step else auto_step(span)
    if span / step > MAX_POINTS - 1:
        step = float(math.ceil(span / (MAX_POINTS - 1)))  # whole seconds keep the grid exact
    # A grid on whole multiples of the step: consecutive polls ask for the same instants,
    # and baseline and canary (same start, end and step) are sampled at the same ones.
    end = math.floor(now.timestamp() / step) * step
    start = end - math.ceil(span / step - 1e-9) * step
    return datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC), step


def join(metric: MetricOptions, baseline: Points, canary: Points) -> MetricSeries:
    """Both sides on one time axis. A side without data stays empty: no data, never a pass."""
    instants = sorted({t for t, _ in baseline} | {t for t, _ in canary})

    def side(points: Points) -> tuple[float, ...]:
        # A gap in one side is NaN at that instant; the judge's NaN strategy handles it.
        values = dict(points)
        return tuple(values.get(t, math.nan) for t in instants) if points else ()

    return MetricSeries(
        name=metric.name,
        unit=metric.unit,
        times=tuple(datetime.fromtimestamp(t, UTC) for t in instants),
        baseline=side(baseline),
        canary=side(canary),
        direction=metric.direction,
        critical=metric.critical,
        group=metric.group,
        weight=metric.weight,
        tolerance=metric.tolerance,
        min=metric.min,
        max=metric.max,
    )


class PrometheusConnector(Connector):
    """Range queries per configured canary metric, baseline and canary side by side, and
    instant error and request counts per burn window when the canary has an SLO."""

    CAPABILITIES = frozenset({Capability.METRICS})
    Options = PrometheusOptions
    USES_HTTP = False  # prometheus-api-client brings its own (requests) session
    DESCRIPTION = "Prometheus: canary metric series (baseline vs canary) and SLO burn windows"

    def __init__(
        self, name: str, options: PrometheusOptions, *, client: object, clock: Clock
    ) -> None:
        super().__init__(name, options, client=None, clock=clock)
        headers: dict[str, str] | None = None
        auth: tuple[str, str] | None = None
        secrets: tuple[str, ...] = ()
        if options.bearer_token is not None:
            token = options.bearer_token.reveal()
            headers, secrets = {"Authorization": f"Bearer {token}"}, (token,)
        elif options.username is not None and options.password is not None:
            password = options.password.reveal()
            auth, secrets = (options.username, password), (password,)
        self.queries = Queries(
            options.url,
            name=name,
            timeout=float(options.timeout),
            headers=headers,
            auth=auth,
            network=requests_settings(options),
            secrets=secrets,
        )

    async def metrics(self) -> Sequence[CanaryMetrics]:
        self.queries.max_response_bytes = self.max_response_bytes  # the config's, from the hub
        now = self.clock.now()
        return await asyncio.gather(*(self._measure(t, now) for t in self.options.canaries))

    async def aclose(self) -> None:
        self.queries.close()

    def _known(self, target: CanaryOptions) -> Canary | None:
        """The active canary another source reports for this target, the newest if several."""
        key = (target.service, target.environment)
        active = [c for c in self.known_canaries if c.key == key and c.phase.active]
        return max(active, key=lambda c: c.started_at, default=None)

    async def _measure(self, target: CanaryOptions, now: datetime) -> CanaryMetrics:
        canary = self._known(target)
        start, end, step = window(now, canary.started_at if canary else None, self.options)
        (burn, burn_problems), results = await asyncio.gather(
            self._burn(target, target.burn, canary, now),
            asyncio.gather(
                *(self._series(target, m, canary, start, end, step) for m in target.metrics)
            ),
        )
        problems = [problem for _, problem in results if problem] + burn_problems
        return CanaryMetrics(
            service=target.service,
            environment=target.environment,
            metrics=tuple(series for series, _ in results),
            source=self.name,
            observed_at=now,
            baseline_version=canary.baseline_version if canary else "",
            canary_version=canary.canary_version if canary else "",
            error="; ".join(problems),
            slo=target.burn.slo if target.burn else None,
            burn=burn,
        )

    async def _series(
        self,
        target: CanaryOptions,
        metric: MetricOptions,
        canary: Canary | None,
        start: datetime,
        end: datetime,
        step: float,
    ) -> tuple[MetricSeries, str]:
        """The metric's series, or an empty one and why (a bad query spoils only itself)."""
        versions = (canary.baseline_version, canary.canary_version) if canary else ("", "")
        if target.uses_versions(metric) and not all(versions):
            return join(metric, [], []), f"{metric.name}: no canary versions known yet"
        baseline_query, canary_query = target.queries(metric, *versions)
        try:
            baseline, canary_points = await asyncio.gather(
                self.queries.series(baseline_query, start, end, step),
                self.queries.series(canary_query, start, end, step),
            )
        except QueryProblem as exc:
            return join(metric, [], []), f"{metric.name}: {exc}"
        return join(metric, baseline, canary_points), ""

    async def _burn(
        self, target: CanaryOptions, burn: BurnOptions | None, canary: Canary | None, now: datetime
    ) -> tuple[tuple[BurnWindow, ...], list[str]]:
        """Errors and total per window, at `now`. A window without both numbers is left out,
        which the burn-rate rule reads as inconclusive, never as a healthy canary."""
        if burn is None:
            return (), []
        versions = (canary.baseline_version, canary.canary_version) if canary else ("", "")
        if target.burn_uses_versions(burn) and not all(versions):
            return (), ["burn: no canary versions known yet"]
        answers = await asyncio.gather(
            *(
                asyncio.gather(
                    *(self._count(q, now) for q in target.burn_queries(burn, w, *versions))
                )
                for w in burn.windows
            )
        )
        windows = []
        problems: dict[str, None] = {}  # one line per distinct problem, in order
        for seconds, ((errors, why_errors), (total, why_total)) in zip(
            burn.windows, answers, strict=True
        ):
            for kind, why in (("errors", why_errors), ("total", why_total)):
                if why:
                    problems[f"burn {kind}: {why}"] = None
            if errors is not None and total is not None:
                windows.append(BurnWindow(float(seconds), errors, total))
        return tuple(windows), list(problems)

    async def _count(self, query: str, now: datetime) -> tuple[float | None, str]:
        """One finite number, or None (no data, NaN, an infinity) and why it was refused."""
        try:
            value = await self.queries.value(query, now)
        except QueryProblem as exc:  # a bad template spoils the burn check, not the poll
            return None, str(exc)
        return (value if value is not None and math.isfinite(value) else None), ""
