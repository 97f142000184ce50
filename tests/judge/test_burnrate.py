"""Multi-window burn-rate trigger (R-A13): factors, AND within a pair, OR across, guards."""

from __future__ import annotations

import pytest

from cockpit.judge.burnrate import (
    DAY,
    HOUR,
    PERIOD_30D,
    WORKBOOK_PAIRS,
    Window,
    burn_rate,
    evaluate,
    threshold,
)

SLO = 0.999  # error budget 0.1 %
MIN = 60.0


@pytest.mark.parametrize(
    ("fraction", "long", "k"), [(0.02, 1 * HOUR, 14.4), (0.05, 6 * HOUR, 6.0), (0.10, 3 * DAY, 1.0)]
)
def test_workbook_factors(fraction: float, long: float, k: float) -> None:
    assert threshold(fraction, PERIOD_30D, long) == pytest.approx(k, rel=1e-12)


def test_pairs_use_a_short_window_of_one_twelfth() -> None:
    assert [p.long / p.short for p in WORKBOOK_PAIRS] == [12, 12, 12]
    assert [p.burn_threshold(PERIOD_30D) for p in WORKBOOK_PAIRS] == pytest.approx([14.4, 6, 1])


def rate(k: float, total: float = 10_000) -> Window:
    """A window burning at k times the budget rate."""
    return Window(errors=k * (1 - SLO) * total, total=total)


def test_burn_rate_definition() -> None:
    assert burn_rate(Window(1, 1000), SLO) == pytest.approx(1.0)


def test_page_pair_needs_both_windows() -> None:
    windows = {1 * HOUR: rate(20), 5 * MIN: rate(20)}
    assert evaluate(windows, slo=SLO, canary_age=2 * HOUR).action == "rollback"
    recovered = {1 * HOUR: rate(20), 5 * MIN: rate(2)}  # short window back to normal
    assert evaluate(recovered, slo=SLO, canary_age=2 * HOUR).action == "ok"
    brief = {1 * HOUR: rate(2), 5 * MIN: rate(50)}  # a spike the long window does not confirm
    assert evaluate(brief, slo=SLO, canary_age=2 * HOUR).action == "ok"


def test_any_tripped_pair_counts() -> None:
    windows = {1 * HOUR: rate(7), 5 * MIN: rate(7), 6 * HOUR: rate(7), 30 * MIN: rate(7)}
    decision = evaluate(windows, slo=SLO, canary_age=7 * HOUR)
    assert decision.action == "rollback"
    assert [o.status for o in decision.pairs] == ["ok", "tripped", "skipped"]


def test_threshold_is_strict() -> None:
    windows = {1 * HOUR: rate(14.4), 5 * MIN: rate(14.4)}
    assert evaluate(windows, slo=SLO, canary_age=HOUR).pairs[0].status == "ok"


def test_ticket_tier_holds_promotion() -> None:
    windows = {3 * DAY: rate(1.5), 6 * HOUR: rate(1.5), 1 * HOUR: rate(1.5), 5 * MIN: rate(1.5),
               30 * MIN: rate(1.5)}  # fmt: skip
    assert evaluate(windows, slo=SLO, canary_age=4 * DAY).action == "hold"


def test_windows_longer_than_the_canary_are_skipped() -> None:
    windows = {1 * HOUR: rate(100), 5 * MIN: rate(100)}
    decision = evaluate(windows, slo=SLO, canary_age=10 * MIN)
    assert [o.status for o in decision.pairs] == ["skipped"] * 3
    assert decision.action == "inconclusive"


def test_too_few_events_is_inconclusive() -> None:
    windows = {1 * HOUR: rate(100, total=40), 5 * MIN: rate(100, total=40)}
    decision = evaluate(windows, slo=SLO, canary_age=2 * HOUR, min_events=50)
    assert decision.pairs[0].status == "inconclusive"
    assert decision.action == "inconclusive"
    assert evaluate(windows, slo=SLO, canary_age=2 * HOUR, min_events=10).action == "rollback"


def test_slo_must_leave_a_budget() -> None:
    with pytest.raises(ValueError, match="slo"):
        evaluate({}, slo=1.0, canary_age=HOUR)
