"""Flagger (flagger.app/v1beta1 Canary resources, through the Kubernetes API) as canaries.

Read-only: Flagger's gates are webhooks that Flagger calls, not an API the cockpit can
call, so promotion and rollback stay with Flagger. Versions are the spec hashes Flagger
records (`lastPromotedSpec` as the baseline, `lastAppliedSpec` as the canary).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from cockpit.connector import Capability
from cockpit.model import Canary, CanaryPhase
from connectors.kube.base import KubeConnector, Memo, stamp
from connectors.kube.client import CANARIES
from connectors.kube.objects import Obj, condition, ident, meta, parse_time

PHASES = {
    "Initializing": CanaryPhase.PROGRESSING,
    "Initialized": CanaryPhase.SUCCEEDED,  # idle: the primary serves, no analysis running
    "Waiting": CanaryPhase.PAUSED,  # for the confirm-rollout webhook
    "Progressing": CanaryPhase.PROGRESSING,
    "WaitingPromotion": CanaryPhase.PAUSED,  # for the confirm-promotion webhook
    "Promoting": CanaryPhase.PROMOTED,
    "Finalising": CanaryPhase.PROMOTED,
    "Succeeded": CanaryPhase.SUCCEEDED,
    "Failed": CanaryPhase.FAILED,
    "Terminating": CanaryPhase.ABORTED,
    "Terminated": CanaryPhase.ABORTED,
}


def analysis_of(obj: Obj) -> Obj:
    spec = obj.get("spec") or {}
    return spec.get("analysis") or spec.get("canaryAnalysis") or {}


def progress(obj: Obj) -> tuple[int, int]:
    """(step, steps): through stepWeights, maxWeight/stepWeight, or iterations (A/B, blue/green)."""
    analysis, status = analysis_of(obj), obj.get("status") or {}
    weight = int(status.get("canaryWeight") or 0)
    weights = [int(w) for w in analysis.get("stepWeights") or []]
    if weights:
        return sum(1 for w in weights if w <= weight), len(weights)
    step_weight = int(analysis.get("stepWeight") or 0)
    if step_weight:
        max_weight = int(analysis.get("maxWeight") or 100)
        return -(-weight // step_weight), -(-max_weight // step_weight)
    return int(status.get("iterations") or 0), int(analysis.get("iterations") or 0)


class FlaggerConnector(KubeConnector):
    """Flagger canaries: phase, weight, failed checks and the Promoted condition."""

    CAPABILITIES = frozenset({Capability.CANARY})
    WATCHES = (CANARIES,)
    DESCRIPTION = "Flagger canaries: phase, weight, failed checks (read-only)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memo: Memo[Canary] = Memo()

    async def canaries(self) -> Sequence[Canary]:
        await self.sync()
        out = tuple(
            self._memo.get(ident(obj), stamp(obj), partial(self._to_canary, obj))
            for obj in self.objects(CANARIES)
        )
        self._memo.done()
        return out

    def _to_canary(self, obj: Obj) -> Canary:
        status = obj.get("status") or {}
        phase = str(status.get("phase") or "Initializing")
        promoted = condition(obj, "Promoted") or {}
        step, steps = progress(obj)
        notes = [phase]
        threshold = analysis_of(obj).get("threshold")
        failed = int(status.get("failedChecks") or 0)
        if failed or phase == "Failed":
            notes.append(f"failed checks {failed}" + (f"/{threshold}" if threshold else ""))
        if promoted.get("message"):
            notes.append(str(promoted["message"]))
        if (obj.get("spec") or {}).get("suspend"):
            notes.append("suspended")
        created = parse_time(meta(obj).get("creationTimestamp"))
        return Canary(
            service=self.service_of(obj),
            environment=self.environment_of(obj),
            baseline_version=str(status.get("lastPromotedSpec") or ""),
            canary_version=str(status.get("lastAppliedSpec") or ""),
            step=step,
            steps=steps,
            weight=int(status.get("canaryWeight") or 0),
            phase=PHASES.get(phase, CanaryPhase.PROGRESSING),
            started_at=parse_time(
                promoted.get("lastTransitionTime"),
                parse_time(status.get("lastTransitionTime"), created),
            ),
            source=self.name,
            observed_at=self.clock.now(),
            message="; ".join(notes),
            remote_id=ident(obj),
        )
