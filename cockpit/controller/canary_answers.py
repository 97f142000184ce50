"""Argo Rollouts' and Flagger's answers: decided from the fleet, audited when they change.

Both ask again every analysis interval; the answer is recorded once per change of
decision (or of the canary it is about) per gate, service and environment, and a
restarted controller reads the last one back instead of repeating it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cockpit.controller import gate_decisions

if TYPE_CHECKING:
    from cockpit.controller.gatekeeper import GateDeps

GRANTS_OPEN_FOR = timedelta(hours=24)  # as long as a two-person request stays open


class CanaryAnswers:
    def __init__(self, deps: GateDeps) -> None:
        self.deps = deps
        self._answers: dict[tuple[str, str, str], str] = {}  # last audited answer per gate

    async def answer(
        self, gate: str, service: str, environment: str, *, verdict_needed: bool = True
    ) -> gate_decisions.Answer:
        """The answer for a rollout waiting on the cockpit, audited when it changed."""
        now = self.deps.clock.now()
        granted = await self._granted(service, environment)
        answer = gate_decisions.canary_answer(
            self.deps.hub.snapshot,
            self.deps.policy,
            service,
            environment,
            now,
            max_age=float(self.deps.config.max_verdict_age),
            granted=granted,
            verdict_needed=verdict_needed,
        )
        key = (gate, service, environment)
        state = f"{answer.decision}|{answer.canary_version}"
        if self._answers.get(key) is None:
            self._answers[key] = await self._last_answer(key)
        if self._answers[key] != state:
            from cockpit.audit import AuditEvent, EventType, Target

            target = Target(
                service=service, environment=environment, to_version=answer.canary_version
            )
            event = AuditEvent(
                EventType.GATE_CHANGED,
                self.deps.actor,
                target,
                "promote",
                answer.decision,
                extra={
                    "gate": gate,
                    "state": state,
                    "reasons": list(answer.reasons),
                    "verdict": answer.verdict,
                    "approvals": answer.approvals,
                },
            )
            await self.deps.journal.append(event)
            self._answers[key] = state
        return answer

    async def _last_answer(self, key: tuple[str, str, str]) -> str:
        """The answer last audited for this gate (a restarted controller does not repeat it)."""
        from cockpit.audit import EventType

        gate, service, environment = key

        def newest(store: Any) -> str:
            for r in store.records(
                event_types=[EventType.GATE_CHANGED],
                service=service,
                environment=environment,
                newest_first=True,
                limit=50,
            ):
                if r.extra.get("gate") == gate:
                    return str(r.extra.get("state", ""))
            return ""

        result: str = await self.deps.journal.call(newest)
        return result

    async def _granted(self, service: str, environment: str) -> list[str]:
        """Who approved a promote here through the two-person rule in the last day."""
        from cockpit.audit import EventType

        snap = self.deps.hub.snapshot
        canary = snap.cell(service, environment).canary
        version = canary.canary_version if canary is not None else ""
        since = self.deps.clock.now() - GRANTS_OPEN_FOR

        def read(store: Any) -> list[str]:
            promotes: set[str] = set()  # two-person requests to promote this canary
            out = []
            for r in store.records(
                since=since,
                event_types=[EventType.APPROVAL_PENDING, EventType.APPROVAL_GRANTED],
                service=service,
                environment=environment,
            ):
                if r.event_type == EventType.APPROVAL_PENDING:
                    asked = r.extra.get("action") or {}
                    t = r.target
                    if asked.get("kind") == "promote" and t is not None and t.to_version == version:
                        promotes.add(r.request_id)
                elif r.request_id in promotes:
                    out.append(r.actor.user)
            return out

        found: list[str] = await self.deps.journal.call(read)
        return found
