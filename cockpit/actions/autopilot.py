"""Acting on canary verdicts: a failing canary is rolled back, or a rollback is proposed.

Per environment, policy's `auto_rollback` decides: when true, the executor rolls the canary
back on its own, as actor `cockpit:auto-rollback` with the verdict as evidence (audited like
any action, refusals included); otherwise the operator sees a banner and rolls back with
one key. It uses break-glass (a closed window) only where `policy.auto_rollback.break_glass`
says so. A marginal verdict never promotes anything: it waits for a human.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cockpit.actions import targets
from cockpit.actions.policy_config import PolicyConfig
from cockpit.fleet.analysis import decision_of, summarise
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Canary, Verdict

if TYPE_CHECKING:
    from cockpit.actions.executor import Executor
    from cockpit.actions.outcome import Outcome
    from cockpit.audit import Actor

AUTO_ACTOR = "cockpit:auto-rollback"


@dataclass(frozen=True)
class Proposal:
    """A canary whose verdict says it should not carry traffic any more."""

    service: str
    environment: str
    canary_version: str
    summary: str
    verdict: Verdict
    automatic: bool

    @property
    def key(self) -> tuple[str, str, str]:
        """Once per canary version: a verdict that keeps failing is acted on only once."""
        return (self.service, self.environment, self.canary_version)

    def reason(self) -> str:
        return f"automatic rollback: canary {self.canary_version} verdict {self.summary}"

    def evidence(self) -> dict[str, object]:
        v = self.verdict
        return {
            "verdict": {
                "summary": self.summary,
                "decision": v.decision,
                "score": f"{v.score:.2f}",
                "marginal": f"{v.marginal:g}",
                "pass": f"{v.passing:g}",
                "digest": v.digest,
                "metrics": [
                    {
                        "name": m.name,
                        "classification": m.classification,
                        "critical": m.critical,
                        "reason": m.reason,
                    }
                    for m in v.metrics
                ],
            },
            "verdict_digest": v.digest,
        }


class AutoPilot:
    def __init__(self, policy: PolicyConfig) -> None:
        self.policy = policy
        self._seen: set[tuple[str, str, str]] = set()

    def automatic(self, environment: str) -> bool:
        env = self.policy.environments.get(environment)
        return bool(env and env.auto_rollback)

    def failing(self, snap: FleetSnapshot) -> list[Proposal]:
        """Every active canary whose verdict fails now."""
        out = []
        for canary in snap.canaries:
            proposal = self._proposal(canary)
            if proposal is not None:
                out.append(proposal)
        return out

    def review(self, snap: FleetSnapshot) -> list[Proposal]:
        """Failing canaries not seen before: each is acted on (or announced) once."""
        fresh = [p for p in self.failing(snap) if p.key not in self._seen]
        self._seen.update(p.key for p in fresh)
        return fresh

    def _proposal(self, canary: Canary) -> Proposal | None:
        verdict = canary.verdict
        if not canary.phase.active or verdict is None or decision_of(verdict) != "fail":
            return None
        return Proposal(
            canary.service,
            canary.environment,
            canary.canary_version,
            summarise(verdict),
            verdict,
            self.automatic(canary.environment),
        )


async def roll_back(executor: Executor, proposal: Proposal, actor: Actor) -> Outcome | str:
    """Roll a failing canary back as `cockpit:auto-rollback`, under the policy decision.

    Returns the outcome, or why no rollback applies. The decision (refusals included) is
    in the audit record like any operator's; break-glass only where policy grants it.
    """
    from cockpit.actions.policy import Operator

    built = targets.rollback(executor.hub.snapshot, proposal.service, proposal.environment)
    if isinstance(built, str):
        return built
    who = replace(actor, user=AUTO_ACTOR)
    plan = replace(
        executor.plan(built, operator=Operator(AUTO_ACTOR)), evidence_extra=proposal.evidence()
    )
    await executor.record_verdict(plan, who, proposal.summary)
    return await executor.submit(
        plan,
        reason=proposal.reason(),
        break_glass=executor.policy.config.auto_rollback.break_glass,
        # Typing the name guards a person against the wrong row; the verdict names it here.
        confirmation=plan.confirmation_word,
        actor=who,
        operator=Operator(AUTO_ACTOR),
    )
