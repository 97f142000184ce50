"""The contract kit checks a connector's named changes (`Observation.changed`): the hub
cleans only the objects a hint names, so a hint that leaves a new object out must fail
the kit, not reach users as uncleaned text."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.model import Changed, Deployment, Health, Observation, Status
from cockpit.testing import changes_problems

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _dep(service: str, version: str = "1") -> Deployment:
    return Deployment(
        service=service,
        environment="dev",
        version=version,
        digest="",
        deployed_at=T0,
        deployed_by="ci",
        status=Status.SUCCEEDED,
        health=Health.HEALTHY,
        source="s",
        observed_at=T0,
    )


def test_a_truthful_hint_passes() -> None:
    c = _dep("c")
    first = Observation(source="s", observed_at=T0, deployments=(_dep("a"), _dep("b")))
    a, b = first.deployments
    second = Observation(
        source="s",
        observed_at=T0,
        deployments=(c, a),  # order is free
        changed=(Changed("deployments", first.deployments, (c,), (b,)),),
    )
    assert changes_problems(first, second) == []


def test_a_new_object_left_out_of_the_hint_fails() -> None:
    first = Observation(source="s", observed_at=T0, deployments=(_dep("a"), _dep("b")))
    a, _b = first.deployments
    sneaked = _dep("b", "2\x1b[31m")  # a new object in b's place, not named
    second = Observation(
        source="s",
        observed_at=T0,
        deployments=(a, sneaked),
        changed=(Changed("deployments", first.deployments, (), ()),),
    )
    (problem,) = changes_problems(first, second)
    assert problem.startswith("deployments: the tuple is not `before` without `removed`")


def test_removing_what_was_not_there_fails() -> None:
    first = Observation(source="s", observed_at=T0, deployments=(_dep("a"),))
    (a,) = first.deployments
    second = Observation(
        source="s",
        observed_at=T0,
        deployments=(a,),
        changed=(Changed("deployments", first.deployments, (_dep("x"),), (_dep("y"),)),),
    )
    assert len(changes_problems(first, second)) == 1


def test_a_hint_against_another_tuple_is_ignored_as_the_hub_ignores_it() -> None:
    first = Observation(source="s", observed_at=T0, deployments=(_dep("a"),))
    second = Observation(
        source="s",
        observed_at=T0,
        deployments=(_dep("z"),),
        changed=(Changed("deployments", (_dep("a"),), (), ()),),
    )
    assert changes_problems(first, second) == []


def test_a_hint_naming_no_tuple_field_fails() -> None:
    first = Observation(source="s", observed_at=T0)
    second = Observation(source="s", observed_at=T0, changed=(Changed("source", (), (), ()),))
    assert changes_problems(first, second) == ["changed names 'source', which is not a tuple field"]
