"""The facts start-up never makes (cockpit.model_later) are still the model's: named by
`cockpit.model`, loaded on first use, and cleaned exactly as when every name was loaded."""

from __future__ import annotations

import subprocess
import sys
import typing
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import cockpit.model
from cockpit import action_model, canary_model, evidence_model, field_kinds, model_later, sanitize
from cockpit.model import (
    Annotation,
    Canary,
    CanaryMetrics,
    CanaryPhase,
    ChangeWindow,
    Gate,
    GateStatus,
    MetricVerdict,
    Observation,
    PendingApproval,
    RateBudget,
    Verdict,
)
from tests.cli import ROOT

LATER = sorted(cockpit.model._LATER)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_model_names_every_later_fact_and_they_are_frozen_dataclasses() -> None:
    for name in LATER:
        cls = getattr(cockpit.model, name)
        assert cls is getattr(model_later, name) and is_dataclass(cls)
        assert getattr(cls, "__dataclass_params__").frozen  # noqa: B009
    gate = Gate("tests", GateStatus.PASS, "12 passed")
    assert replace(gate, status=GateStatus.FAIL).status is GateStatus.FAIL
    assert [f.name for f in fields(RateBudget)] == ["resource", "remaining", "limit", "reset_at"]
    try:
        cockpit.model.NoSuchFact  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchFact" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


PROBE = """
import sys
import cockpit.connector, cockpit.fleet.analysis, cockpit.fleet.snapshot, cockpit.model
assert "cockpit.model_later" not in sys.modules, "loaded at import"
from cockpit.model import Gate
assert "cockpit.model_later" in sys.modules and Gate.__module__ == "cockpit.model_later"
"""


def test_the_contract_the_model_and_the_hub_load_them_only_when_named() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stderr


def _model_classes() -> list[type]:
    modules = (cockpit.model, model_later, canary_model, evidence_model, action_model)
    return [
        v
        for m in modules
        for v in vars(m).values()
        if isinstance(v, type) and is_dataclass(v) and v.__module__ == m.__name__
    ]


def test_hints_resolve_as_with_every_name_loaded_and_unloaded_ones_are_classes() -> None:
    """A name its module does not load reads `_Unloaded` (walked); every other field has
    the type it has when the whole model is in scope, so the fast paths are kept."""
    everything: dict[str, Any] = {}
    for module in (cockpit.model, model_later, canary_model, evidence_model, action_model):
        everything.update(vars(module))
    everything.update({name: getattr(cockpit.model, name) for name in LATER})
    for cls in _model_classes():
        full = typing.get_type_hints(cls, globalns=everything)
        got = field_kinds.hints_of(cls)
        assert got.keys() == full.keys(), cls
        for name, hint in got.items():
            if hint == full[name]:
                continue
            unloaded = str(hint).replace("cockpit.field_kinds.Unloaded", "X")
            assert "X" in unloaded or hint is field_kinds.Unloaded, (cls, name)
            assert not field_kinds.textless(hint)  # walked: never skipped for want of a name
        assert field_kinds.hints_of(cls)  # no class falls back to walking every field blind


TEXT = st.text(st.one_of(st.characters(), st.sampled_from("\x1b\x9b\u202e\u2028é")), max_size=8)


def _walked(value: Any) -> Any:
    if isinstance(value, str):
        return sanitize.clean(value, multiline=True)
    if isinstance(value, tuple):
        return tuple(_walked(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _walked(getattr(value, f.name)) for f in fields(value)})
    return value


@given(TEXT, TEXT, TEXT)
def test_facts_holding_later_ones_are_cleaned_as_a_field_by_field_walk(
    a: str, b: str, c: str
) -> None:
    gate = Gate(a, GateStatus.UNKNOWN, b, facts=((c, a),))
    approval = PendingApproval("p", "svc", "prod", "stage", b, c, T0, "s", T0, gates=(gate,))
    verdict = Verdict(0.5, "fail", 50, 75, (MetricVerdict(a, "High", b),), reason=c)
    canary = Canary("svc", "prod", "1", "2", 1, 3, 5, CanaryPhase.PAUSED, T0, "s", T0)
    observation = Observation(
        source="s",
        observed_at=T0,
        canaries=(replace(canary, verdict=verdict, message=a),),
        metrics=(CanaryMetrics("svc", "prod", (), "s", T0, error=b),),
        approvals=(approval,),
        gates=(gate,),
        annotations=(Annotation("n", T0, a, "s", T0, tags=(b,)),),
        windows=(ChangeWindow(c, "0 9 * * 1-5", 60, "UTC"),),
        rate=(RateBudget(a, 1, 2),),
        incomplete=c,
    )
    for fact in (gate, approval, verdict, observation):
        expected = _walked(fact)
        got = sanitize._inert(fact)
        assert got == expected
        assert (got is fact) == (expected == fact)
