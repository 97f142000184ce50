"""Multi-window, multi-burn-rate checks (Google SRE Workbook) as a canary rollback trigger.

A pair of windows trips when both the long and the short window burn error budget faster
than k = f * P / L (AND within a pair); any tripped pair counts (OR across pairs). For a
canary, windows longer than its age mean nothing and are skipped, and windows with too
few events are inconclusive rather than quietly fine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

HOUR = 3600.0
DAY = 24 * HOUR
PERIOD_30D = 30 * DAY


def threshold(budget_fraction: float, period: float, long_window: float) -> float:
    """Burn rate k that spends `budget_fraction` of the budget within `long_window`."""
    return budget_fraction * period / long_window


@dataclass(frozen=True, slots=True)
class WindowPair:
    severity: str  # page (roll back) or ticket (hold promotion)
    budget_fraction: float
    long: float  # seconds
    short: float  # seconds; the workbook uses long / 12

    def burn_threshold(self, period: float) -> float:
        return threshold(self.budget_fraction, period, self.long)


# The workbook's recommended pairs for a 30-day SLO: k = 14.4, 6 and 1.
WORKBOOK_PAIRS = (
    WindowPair("page", 0.02, 1 * HOUR, 5 * 60.0),
    WindowPair("page", 0.05, 6 * HOUR, 30 * 60.0),
    WindowPair("ticket", 0.10, 3 * DAY, 6 * HOUR),
)


@dataclass(frozen=True, slots=True)
class Window:
    """Events observed over one window: errors out of total."""

    errors: float
    total: float


@dataclass(frozen=True, slots=True)
class PairOutcome:
    pair: WindowPair
    status: str  # tripped, ok, skipped (older than the canary), inconclusive (too few events)
    long_rate: float | None = None
    short_rate: float | None = None
    threshold: float = math.nan


@dataclass(frozen=True, slots=True)
class BurnDecision:
    action: str  # rollback (a page pair tripped), hold (a ticket pair), inconclusive, ok
    pairs: tuple[PairOutcome, ...]


def burn_rate(window: Window, slo: float) -> float:
    """(error ratio over the window) / (1 - SLO); 1.0 spends the budget exactly in P."""
    return (window.errors / window.total) / (1.0 - slo)


def evaluate(
    windows: Mapping[float, Window],
    *,
    slo: float,
    canary_age: float,
    min_events: int = 100,
    pairs: Sequence[WindowPair] = WORKBOOK_PAIRS,
    period: float = PERIOD_30D,
) -> BurnDecision:
    """Decide from per-window counts (keyed by window length in seconds)."""
    if not 0.0 < slo < 1.0:
        raise ValueError("slo must be between 0 and 1 (exclusive)")
    outcomes = []
    for pair in pairs:
        k = pair.burn_threshold(period)
        if pair.long > canary_age:
            outcomes.append(PairOutcome(pair, "skipped", threshold=k))
            continue
        long, short = windows.get(pair.long), windows.get(pair.short)
        if long is None or short is None or min(long.total, short.total) < min_events:
            outcomes.append(PairOutcome(pair, "inconclusive", threshold=k))
            continue
        long_rate, short_rate = burn_rate(long, slo), burn_rate(short, slo)
        status = "tripped" if long_rate > k and short_rate > k else "ok"
        outcomes.append(PairOutcome(pair, status, long_rate, short_rate, k))
    tripped = {o.pair.severity for o in outcomes if o.status == "tripped"}
    if "page" in tripped:
        action = "rollback"
    elif tripped:
        action = "hold"
    elif any(o.status == "ok" for o in outcomes) and not any(
        o.status == "inconclusive" for o in outcomes
    ):
        action = "ok"
    else:
        action = "inconclusive"  # nothing evaluable, or some pair lacked events
    return BurnDecision(action, tuple(outcomes))
