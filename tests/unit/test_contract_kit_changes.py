"""The contract kit checks a connector's named changes (`Observation.changed`): the hub
cleans only the objects a hint names, so a hint that leaves a new object out must fail
the kit, not reach users as uncleaned text."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.model import Changed, Observation, PipelineRun
from cockpit.testing import changes_problems
from tests.fakes import pipeline_run

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def _run(rid: str, version: str = "2.0.0") -> PipelineRun:
    return pipeline_run(T0, id=rid, version=version)


def test_a_truthful_hint_passes() -> None:
    c = _run("c")
    first = Observation(source="s", observed_at=T0, runs=(_run("a"), _run("b")))
    a, b = first.runs
    second = Observation(
        source="s",
        observed_at=T0,
        runs=(c, a),  # order is free
        changed=(Changed("runs", first.runs, (c,), (b,)),),
    )
    assert changes_problems(first, second) == []


def test_a_new_object_left_out_of_the_hint_fails() -> None:
    first = Observation(source="s", observed_at=T0, runs=(_run("a"), _run("b")))
    a, _b = first.runs
    sneaked = _run("b", "2\x1b[31m")  # a new object in b's place, not named
    second = Observation(
        source="s",
        observed_at=T0,
        runs=(a, sneaked),
        changed=(Changed("runs", first.runs, (), ()),),
    )
    (problem,) = changes_problems(first, second)
    assert problem.startswith("runs: the tuple is not `before` without `removed`")


def test_removing_what_was_not_there_fails() -> None:
    first = Observation(source="s", observed_at=T0, runs=(_run("a"),))
    (a,) = first.runs
    second = Observation(
        source="s",
        observed_at=T0,
        runs=(a,),
        changed=(Changed("runs", first.runs, (_run("x"),), (_run("y"),)),),
    )
    assert len(changes_problems(first, second)) == 1


def test_a_hint_against_another_tuple_is_ignored_as_the_hub_ignores_it() -> None:
    first = Observation(source="s", observed_at=T0, runs=(_run("a"),))
    second = Observation(
        source="s",
        observed_at=T0,
        runs=(_run("z"),),
        changed=(Changed("runs", (_run("a"),), (), ()),),
    )
    assert changes_problems(first, second) == []


def test_a_hint_naming_no_tuple_field_fails() -> None:
    first = Observation(source="s", observed_at=T0)
    second = Observation(source="s", observed_at=T0, changed=(Changed("source", (), (), ()),))
    assert changes_problems(first, second) == ["changed names 'source', which is not a tuple field"]
