"""Suspects: the changes in the window before an alert, ranked by relation, kind and time."""

from __future__ import annotations

import random
from datetime import timedelta

from cockpit.incident.correlate import ChangeIndex, suspects
from tests.unit.incident_kit import T0, alert, change, minutes


def summaries(found: list) -> list[str]:
    return [s.change.summary for s in found]


def test_only_changes_in_the_window_before_the_alert_are_suspects() -> None:
    changes = [
        change(T0 - minutes(121), summary="too early"),
        change(T0 - minutes(120), summary="window start"),
        change(T0, summary="same instant"),
        change(T0 + minutes(1), summary="after: not a cause"),
    ]
    assert summaries(suspects(alert(), changes)) == ["same instant", "window start"]
    assert summaries(suspects(alert(), changes, window=timedelta(minutes=30))) == ["same instant"]


def test_relation_outranks_time_same_cell_then_service_then_environment_then_unrelated() -> None:
    changes = [
        change(T0 - minutes(1), service="cart", environment="staging", summary="unrelated"),
        change(T0 - minutes(2), service="cart", environment="prod", summary="same env"),
        change(T0 - minutes(3), environment="staging", summary="same service"),
        change(T0 - minutes(119), summary="same cell, long before"),
    ]
    found = suspects(alert(), changes)
    assert summaries(found) == ["same cell, long before", "same service", "same env", "unrelated"]
    assert [s.why for s in found] == [
        "same service and environment, 1 h 59 min before",
        "same service, other environment, 3 min before",
        "same environment, other service, 2 min before",
        "unrelated service and environment, 1 min before",
    ]


def test_within_a_relation_closer_ranks_higher_and_changes_to_what_runs_outweigh_approvals() -> (
    None
):
    changes = [
        change(T0 - minutes(40), summary="deploy 40 min before"),
        change(T0 - minutes(5), summary="deploy 5 min before"),
        change(T0 - minutes(4), kind="approval", summary="approval 4 min before"),
        change(T0 - minutes(100), kind="rollback", summary="rollback 100 min before"),
    ]
    assert summaries(suspects(alert(), changes)) == [
        "deploy 5 min before",
        "deploy 40 min before",
        "rollback 100 min before",
        "approval 4 min before",
    ]


def test_a_fleet_wide_change_ranks_with_the_same_environment_and_says_so() -> None:
    fleet = change(T0 - minutes(4), kind="config", service="", environment="", summary="config")
    [found] = suspects(alert(), [fleet])
    assert found.why == "fleet-wide, 4 min before"


def test_ties_are_broken_newer_first_then_kind_then_summary() -> None:
    at = T0 - minutes(10)
    changes = [
        change(at, kind="sync", summary="b"),
        change(at, kind="deploy", summary="z"),
        change(at, kind="deploy", summary="a"),
    ]
    for order in (changes, changes[::-1]):
        assert summaries(suspects(alert(), order)) == ["a", "z", "b"]


def test_a_limit_gives_the_same_top_suspects_as_ranking_everything() -> None:
    rng = random.Random(3)
    services = [f"svc{i}" for i in range(12)]
    envs = ["dev", "staging", "prod"]
    kinds = ["deploy", "approval", "sync", "pipeline", "canary", "annotation"]
    changes = [
        change(
            T0 - minutes(rng.randint(0, 180)),
            kind=rng.choice(kinds),
            service=rng.choice([*services, ""]),
            environment=rng.choice(envs),
            summary=f"c{n}",
        )
        for n in range(2000)
    ]
    index = ChangeIndex(changes)
    for service in services[:4]:
        for env in envs:
            a = alert(service, env, T0 - minutes(rng.randint(0, 60)))
            full = index.suspects(a)
            for limit in (1, 5, 30):
                assert index.suspects(a, limit=limit) == full[:limit]
