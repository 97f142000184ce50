"""Change windows and blackouts, including across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.actions.windows import occurrence, state, validate
from cockpit.model import ChangeWindow

BUSINESS = ChangeWindow(
    "business-hours", "0 9 * * 1-5", 9 * 60, "Europe/Berlin", "allow", ("prod",)
)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_open_until_the_window_ends_in_its_own_zone() -> None:
    s = state([BUSINESS], "prod", at(2026, 11, 26, 10, 0))  # 11:00 CET, Thursday
    assert s.open and s.label == "open until 18:00 CET"
    assert s.until == at(2026, 11, 26, 17, 0)


def test_closed_says_when_it_opens() -> None:
    s = state([BUSINESS], "prod", at(2026, 11, 26, 17, 48))  # 18:48 CET
    assert not s.open
    assert s.label == "closed, opens in 14h12m"
    assert s.reason == "outside every allowed change window"


def test_weekend_skips_to_monday() -> None:
    s = state([BUSINESS], "prod", at(2026, 11, 28, 12, 0))  # Saturday 13:00 CET
    assert not s.open and s.until == at(2026, 11, 30, 8, 0) and s.label == "closed, opens in 1d20h"


def test_other_environments_are_not_affected() -> None:
    assert state([BUSINESS], "staging", at(2026, 11, 28, 12, 0)).open


def test_blackout_wins_over_an_allow_window() -> None:
    freeze = ChangeWindow("year-end", "0 0 20 12 *", 14 * 24 * 60, "UTC", "deny")
    s = state([BUSINESS, freeze], "prod", at(2026, 12, 22, 10, 0))  # a Tuesday inside the freeze
    assert not s.open and "blackout year-end" in s.reason
    assert s.until == at(2027, 1, 4, 8, 0)  # first business morning after the freeze ends


def test_spring_forward_keeps_local_start_and_local_end() -> None:
    # 29 March 2026: Berlin moves from CET (UTC+1) to CEST (UTC+2) at 02:00 local.
    nightly = ChangeWindow("night", "0 1 * * *", 180, "Europe/Berlin", "allow")
    start, end = occurrence(nightly, at(2026, 3, 29, 0, 30))  # type: ignore[misc]
    assert start == at(2026, 3, 29, 0, 0)  # 01:00 CET
    assert end == at(2026, 3, 29, 2, 0)  # 04:00 CEST on the wall clock: two real hours
    assert end.astimezone(start.tzinfo).hour == 4
    assert state([nightly], "prod", at(2026, 3, 29, 1, 55)).open
    assert not state([nightly], "prod", at(2026, 3, 29, 2, 5)).open


def test_fall_back_day_starts_at_the_same_local_time() -> None:
    # 25 October 2026: CEST -> CET. The 09:00 window starts at 08:00 UTC, not 07:00.
    daily = ChangeWindow("day", "0 9 * * *", 60, "Europe/Berlin", "allow")
    assert not state([daily], "prod", at(2026, 10, 25, 7, 30)).open
    assert state([daily], "prod", at(2026, 10, 25, 8, 30)).open
    assert state([daily], "prod", at(2026, 10, 24, 7, 30)).open  # the day before, CEST


def test_no_windows_means_open() -> None:
    assert state([], "prod", at(2026, 1, 1)).label == "open (no change windows)"


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (ChangeWindow("x", "61 * * * *", 10, "UTC"), "invalid cron"),
        (ChangeWindow("x", "0 9 * * *", 10, "Mars/Olympus"), "unknown time zone"),
        (ChangeWindow("x", "0 9 * * *", 0, "UTC"), "duration"),
        (ChangeWindow("x", "0 9 * * *", 10, "UTC", "maybe"), "kind"),
    ],
)
def test_invalid_windows_are_refused(window: ChangeWindow, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate(window)
