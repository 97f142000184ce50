"""The patches `kubectl argo rollouts` sends, as data (pkg/kubectl-argo-rollouts/cmd/*).

Each command is a spec patch (on the Rollout), a status patch (on its status
subresource), and the unified patch the plugin sends instead to the main resource when
the status subresource answers 404 (Rollouts v0.9 CRDs). All are JSON merge patches,
except undo's JSON patch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.kube.objects import Obj
from connectors.rollouts.canary import finished, step_index, steps_of

Patch = dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """What to send, in the plugin's order: the status patch first, then the spec patch."""

    spec: Patch | None = None
    status: Patch | None = None
    unified: Patch | None = None  # replaces `spec` when the status subresource is missing


def _is_canary(ro: Obj) -> bool:
    return "canary" in (((ro.get("spec") or {}).get("strategy")) or {})


def _inconclusive(ro: Obj) -> bool:
    ref = (((ro.get("status") or {}).get("canary")) or {}).get("currentStepAnalysisRunStatus") or {}
    return _is_canary(ro) and ref.get("status") == "Inconclusive"


def _next_index(ro: Obj) -> int:
    """The current step index plus one, capped at the number of steps."""
    index = step_index(ro)
    return index + 1 if index < len(steps_of(ro)) else index


def promote(ro: Obj) -> Plan:
    """`promote`: unpause, then clear the pause or move to the next step (never both)."""
    spec = {"spec": {"paused": False}} if (ro.get("spec") or {}).get("paused") else None
    status = ro.get("status") or {}
    unified: Patch = {"spec": {"paused": False}, "status": {"pauseConditions": None}}
    if _inconclusive(ro) and status.get("pauseConditions") and status.get("controllerPause"):
        if not steps_of(ro):
            return Plan(spec, None, unified)
        index = _next_index(ro)
        return Plan(
            spec,
            {
                "status": {
                    "pauseConditions": None,
                    "controllerPause": False,
                    "currentStepIndex": index,
                }
            },
            unified,
        )
    if status.get("pauseConditions"):
        return Plan(spec, {"status": {"pauseConditions": None}}, unified)
    if _is_canary(ro) and steps_of(ro):
        index = _next_index(ro)
        return Plan(
            spec,
            {"status": {"pauseConditions": None, "currentStepIndex": index}},
            {
                "spec": {"paused": False},
                "status": {"pauseConditions": None, "currentStepIndex": index},
            },
        )
    return Plan(spec, None, unified)


def promote_full(ro: Obj) -> Plan:
    """`promote --full`: skip every remaining step, analysis and pause."""
    spec = {"spec": {"paused": False}} if (ro.get("spec") or {}).get("paused") else None
    status = None if finished(ro) else {"status": {"promoteFull": True}}
    return Plan(spec, status, {"spec": {"paused": False}, "status": {"promoteFull": True}})


def abort() -> Plan:
    return Plan(status={"status": {"abort": True}}, unified={"status": {"abort": True}})


def retry() -> Plan:
    return Plan(status={"status": {"abort": False}}, unified={"status": {"abort": False}})


def pause() -> Plan:
    return Plan(spec={"spec": {"paused": True}})


def resume(ro: Obj) -> Plan:
    """Lift every pause, as Argo CD's Rollout resume action does: the operator's
    (spec.paused) and the step's own (status.pauseConditions); the step index stays."""
    spec = {"spec": {"paused": False}} if (ro.get("spec") or {}).get("paused") else None
    paused_at_step = bool((ro.get("status") or {}).get("pauseConditions"))
    status = {"status": {"pauseConditions": None}} if paused_at_step else None
    return Plan(spec, status, {**(spec or {}), **status} if status else None)


def undo(template: Obj) -> list[Patch]:
    """`undo`: put a ReplicaSet's pod template back (the hash label already removed)."""
    return [{"op": "replace", "path": "/spec/template", "value": template}]
