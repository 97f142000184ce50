"""The domain model: frozen facts, timezone-aware times only."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from cockpit.model import Action, ActionKind, Deployment, Health, Status

NAIVE = datetime(2026, 1, 1, 12, 0)
AWARE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def deployment(**kw: object) -> Deployment:
    base = dict(
        service="web",
        environment="prod",
        version="1.0.0",
        digest="sha256:0",
        deployed_at=AWARE,
        deployed_by="ci",
        status=Status.SUCCEEDED,
        health=Health.HEALTHY,
        source="x",
        observed_at=AWARE,
    )
    return Deployment(**{**base, **kw})  # type: ignore[arg-type]


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="deployed_at must be timezone-aware"):
        deployment(deployed_at=NAIVE)
    with pytest.raises(ValueError, match="observed_at must be timezone-aware"):
        deployment(observed_at=NAIVE)


def test_facts_are_frozen_and_comparable() -> None:
    d = deployment()
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.version = "2"  # type: ignore[misc]
    assert d == deployment() and d.key == ("web", "prod")


def test_terminal_statuses() -> None:
    assert {s for s in Status if s.terminal} == {
        Status.SUCCEEDED,
        Status.FAILED,
        Status.CANCELLED,
        Status.SKIPPED,
    }


def test_action_params() -> None:
    a = Action(ActionKind.PROMOTE, "web", "prod", params=(("full", "true"),))
    assert a.param("full") == "true" and a.param("missing", "x") == "x"
