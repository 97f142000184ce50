"""The demo makes its frozen facts with `connectors.demo.make.maker`: the same objects the
model classes' own constructors make, naive datetimes refused the same way."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

import pytest

from cockpit.model import (
    Deployment,
    Health,
    PendingApproval,
    PipelineRun,
    Revision,
    Stage,
    Status,
    TestSummary,
)
from connectors.demo.make import maker

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
NAIVE = datetime(2026, 11, 26, 3, 0)

STAGE = Stage("build", Status.SUCCEEDED, T0, T0, False, "")
REVISION = Revision("1.2.3", "sha256:ab", T0, "alice", "3", False)
SAMPLES: list[tuple[type, tuple[object, ...]]] = [
    (Stage, ("deploy-dev", Status.WAITING, T0, None, True, "dev")),
    (REVISION.__class__, ("1.2.4", "sha256:cd", T0, "bob", "", True)),
    (
        Deployment,
        (
            "checkout",
            "prod",
            "1.2.4",
            "sha256:cd",
            T0,
            "bob",
            Status.SUCCEEDED,
            Health.HEALTHY,
            "demo",
            T0,
            (REVISION,),
            "4",
            "rollback",
        ),
    ),
    (
        PipelineRun,
        (
            "checkout#101",
            "checkout",
            "release",
            101,
            Status.RUNNING,
            (STAGE,),
            "alice",
            "0" * 40,
            "Fix it",
            "main",
            T0,
            "demo",
            T0,
            T0,
            None,
            TestSummary(3, 1, 0),
            "1.2.4",
            "sha256:cd",
            "https://ci.example/checkout/runs/101",
        ),
    ),
    (
        PendingApproval,
        (
            "demo:checkout#101",
            "checkout",
            "prod",
            "deployment",
            "Deploy checkout 1.2.4 to prod",
            "alice",
            T0,
            "demo",
            T0,
            "1.2.4",
            "sha256:cd",
            "checkout#101",
            "checkout#101",
            1,
            (),
            (),
        ),
    ),
]


@pytest.mark.parametrize(("cls", "values"), SAMPLES, ids=lambda x: getattr(x, "__name__", ""))
def test_made_objects_equal_the_constructors(cls: type, values: tuple[object, ...]) -> None:
    made = maker(cls)(*values)
    built = cls(*values)
    assert type(made) is cls
    assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert all(getattr(made, f.name) is getattr(built, f.name) for f in fields(cls))


def test_defaults_are_the_classes_defaults() -> None:
    assert maker(Stage)("build", Status.QUEUED) == Stage("build", Status.QUEUED)
    assert maker(PendingApproval)(*SAMPLES[-1][1][:9]) == PendingApproval(*SAMPLES[-1][1][:9])


@pytest.mark.parametrize(("cls", "values"), SAMPLES, ids=lambda x: getattr(x, "__name__", ""))
def test_a_naive_datetime_is_refused_as_the_class_refuses_it(
    cls: type, values: tuple[object, ...]
) -> None:
    make = maker(cls)
    for i, value in enumerate(values):
        if not isinstance(value, datetime):
            continue
        wrong = (*values[:i], NAIVE, *values[i + 1 :])
        with pytest.raises(ValueError) as by_class:
            cls(*wrong)
        with pytest.raises(ValueError) as by_maker:
            make(*wrong)
        assert str(by_maker.value) == str(by_class.value)


def test_only_for_frozen_slotted_classes_that_only_check_times() -> None:
    @dataclass
    class Mutable:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Checks:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    for cls in (Mutable, NoSlots, Checks):
        with pytest.raises(TypeError):
            maker(cls)


def test_each_class_gets_one_constructor_however_many_modules_ask() -> None:
    # The simulation and its start both make deployments: one exec, one function.
    from connectors.demo import sim, sim_start

    assert sim.make_deployment is sim_start.make_deployment
    assert sim.make_revision is sim_start.make_revision
