"""Field kinds read from annotations as written agree with evaluating them, class by class."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal, Optional

import cockpit
import connectors
import screens
from cockpit import field_kinds
from cockpit.field_kinds import STR, TEXTLESS, WALK, as_written
from cockpit.field_kinds import field_kinds as kinds_of


def _every_dataclass() -> list[type]:
    for package in (cockpit, connectors, screens):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):  # runs the command line when imported
                importlib.import_module(info.name)
    return [
        value
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in ("cockpit", "connectors", "screens")
        for value in vars(module).values()
        if isinstance(value, type) and is_dataclass(value) and value.__module__ == name
    ]


def test_reading_as_written_agrees_with_evaluating_for_every_dataclass_of_ours() -> None:
    classes = _every_dataclass()
    read = 0
    for cls in classes:
        names = [f.name for f in fields(cls)]
        fast = as_written(cls, names)
        if fast is None:
            continue
        read += 1
        hints = field_kinds.hints_of(cls)  # everything is loaded here: nothing is Unloaded
        if not hints:  # a name under TYPE_CHECKING used as `module.Name`: cannot evaluate
            continue
        assert fast == {n: field_kinds.kind_of(hints[n]) for n in names}, cls
    assert len(classes) > 200
    assert read > 0.9 * len(classes)  # the fast path is the common one


def test_the_facts_the_first_poll_cleans_are_read_without_evaluating() -> None:
    from cockpit import canary_model, model

    for cls in (
        model.Deployment,
        model.PipelineRun,
        model.Stage,
        model.Alert,
        model.DriftReport,
        model.Observation,
        canary_model.Canary,
    ):
        assert as_written(cls, list(cls.__dataclass_fields__)) is not None, cls


class Colour(Enum):
    RED = "red"


@dataclass(frozen=True)
class Sample:
    name: str
    count: int | None
    at: datetime
    colour: Colour
    points: tuple[float, ...]
    names: tuple[str, ...]
    pair: tuple[int, Colour]
    labels: Mapping[str, str]
    maybe: Optional[int]  # noqa: UP045 (an evaluated form)
    mode: Literal["a", "b"]
    text: str | None = None


def test_each_form_has_the_kind_evaluation_gives() -> None:
    kinds = kinds_of(Sample)
    assert kinds == {
        "name": STR,
        "count": TEXTLESS,
        "at": TEXTLESS,
        "colour": TEXTLESS,
        "points": TEXTLESS,
        "names": WALK,
        "pair": TEXTLESS,
        "labels": WALK,
        "maybe": TEXTLESS,
        "mode": WALK,
        "text": WALK,
    }
    assert as_written(Sample, list(Sample.__dataclass_fields__)) is None  # Optional, Literal


def test_a_name_not_loaded_is_walked() -> None:
    namespace: dict[str, Any] = {"__name__": "tests.unit.lazy_probe"}
    module = type(sys)("tests.unit.lazy_probe")
    sys.modules[module.__name__] = module
    try:
        exec(
            "from __future__ import annotations\n"
            "from dataclasses import dataclass\n"
            "@dataclass\n"
            "class Holder:\n"
            "    later: NotLoadedYet\n"
            "    count: int\n",
            namespace,
        )
        vars(module).update(namespace)
        holder = namespace["Holder"]
        assert kinds_of(holder) == {"later": WALK, "count": TEXTLESS}
    finally:
        del sys.modules[module.__name__]
