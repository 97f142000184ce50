"""Times on the command line: the ages `audit` and `incident` options take, years included."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.cli import parser
from cockpit.cli.common import resolve_when, when
from cockpit.retention_config import parse_age

NOW = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", NOW - timedelta(minutes=90)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(days=14)),
        ("0y", NOW),
        ("1y", datetime(2027, 2, 28, 12, 0, tzinfo=UTC)),  # no 29 February in 2027
        ("7y", datetime(2021, 2, 28, 12, 0, tzinfo=UTC)),
    ],
)
def test_an_age_counts_back_from_now(text: str, expected: datetime) -> None:
    assert resolve_when(when(text), NOW) == expected


def test_years_mean_what_retention_keep_means() -> None:
    assert resolve_when(when("7y"), NOW) == parse_age("7y").before(NOW)


@pytest.mark.parametrize("text", ["7 y", "y", "-1d", "7x", "2026-13-01"])
def test_anything_else_is_a_usage_error_naming_the_forms(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="7y"):
        when(text)


def test_audit_purge_takes_the_same_age_as_keep() -> None:
    args = parser().parse_args(["audit", "purge", "--before", "7y", "--reason", "past keep"])
    assert resolve_when(args.before, NOW) == datetime(2021, 2, 28, 12, 0, tzinfo=UTC)
