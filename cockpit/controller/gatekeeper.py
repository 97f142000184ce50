"""The controller's side of the gate: file requests, decide them, tell GitHub, audit answers.

One Gatekeeper per controller. `file` puts a GitHub request on the log (once per
delivery); `settle` reads every open request back and decides those where the approvers
(through the executor, on any cockpit) and the promote gates now agree, or a rejection
came; an answer decided is POSTed to GitHub's callback by one task per request, with
doubling waits between failed attempts, each failure on the log and in the Approvals
title, until GitHub takes it. Argo Rollouts / Flagger answers are audited when they
change, not on every poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from cockpit.clock import Clock
from cockpit.controller import gate_decisions
from cockpit.controller.canary_answers import CanaryAnswers
from cockpit.controller.gate_source import read_states, required
from cockpit.controller.github_gate import GATE_SOURCE, GateRequest, GateState
from cockpit.controller.webhooks_config import WebhooksConfig
from cockpit.sanitize import clean

log = logging.getLogger(__name__)
CALLBACK_TIMEOUT = 10.0
REFUSALS_PER_MINUTE = 30


@dataclass
class GateDeps:
    """What the gate endpoints need from the controller."""

    journal: Any  # cockpit.journal.Journal over the (team) audit store
    hub: Any  # .snapshot (the fleet), .poke(name)
    policy: Any  # cockpit.actions.policy.Policy, as the executor enforces it
    config: WebhooksConfig
    clock: Clock
    actor: Any  # cockpit.audit.Actor: the controller, in the records it writes itself
    client: Any = None  # httpx.AsyncClient for callbacks (tests: over a MockTransport)
    sleep: Callable[[float], Awaitable[Any]] = field(default=asyncio.sleep)


class Gatekeeper:
    def __init__(self, deps: GateDeps) -> None:
        self.deps = deps
        self.waiting: dict[str, list[str]] = {}  # request id -> why not approved yet
        self._lock = asyncio.Lock()  # one filing or decision at a time (duplicates)
        self._sending: dict[str, asyncio.Task[None]] = {}
        self.canaries = CanaryAnswers(deps)
        self._refusal_window = (float("-inf"), 0)  # (start, records written in it)
        self._unrecorded = 0  # refusals over the rate since the last record

    # Records ------------------------------------------------------------------------
    async def _append(
        self,
        kind: str,
        outcome: str,
        *,
        request_id: str = "",
        target: Any = None,
        reason: str = "",
        extra: dict[str, Any] | None = None,
        action: str = "",
    ) -> Any:
        from cockpit.audit import AuditEvent, EventType

        event = AuditEvent(
            EventType(kind),
            self.deps.actor,
            target,
            action or kind,
            outcome,
            reason=reason,
            request_id=request_id,
            extra=extra or {},
        )
        return await self.deps.journal.append(event)

    def _target(self, req: GateRequest) -> Any:
        from cockpit.audit import Target

        return Target(
            service=req.service,
            environment=req.environment,
            to_version=req.version,
            digest="",
            source=GATE_SOURCE,
            remote_id=req.delivery,
        )

    async def refused(self, source: str, delivery: str, why: str, peer: str) -> None:
        """A webhook refused before its body was trusted: who sent it, never what it said.

        At most REFUSALS_PER_MINUTE records a minute: unsigned requests cost nothing to
        send, and must not fill the log; the next record says how many were not written."""
        now = self.deps.clock.monotonic()
        if now - self._refusal_window[0] >= 60:
            self._refusal_window = (now, 0)
        start, count = self._refusal_window
        if count >= REFUSALS_PER_MINUTE:
            self._unrecorded += 1
            log.warning("webhook refused (%s), not recorded: over the rate", why)
            return
        self._refusal_window = (start, count + 1)
        extra: dict[str, Any] = {
            "source": source, "delivery": delivery, "why": why, "peer": clean(peer, limit=60)
        }  # fmt: skip
        if self._unrecorded:
            extra["unrecorded_before"] = self._unrecorded
        await self._append("webhook.refused", "refused", request_id=delivery, extra=extra)
        self._unrecorded = 0

    async def file(self, req: GateRequest) -> bool:
        """Put `req` on the log; False when its delivery is already there (a redelivery)."""
        async with self._lock:
            known = await read_states(self.deps.journal, self.deps.clock.now())
            if req.delivery in known:
                return False
            await self._append(
                "gate.requested",
                "pending",
                request_id=req.delivery,
                target=self._target(req),
                extra=req.extra(),
                action="approve",
            )
        self.deps.hub.poke(GATE_SOURCE)
        return True

    # Deciding -----------------------------------------------------------------------
    async def settle(self) -> None:
        """Decide what can be decided now, and make sure every owed answer is being sent."""
        async with self._lock:
            found = await read_states(self.deps.journal, self.deps.clock.now())
            for rid, state in found.items():
                if state.open and not state.decided:
                    await self._decide(rid, state)
        for rid, state in found.items():
            if state.open and state.decided and rid not in self._sending:
                self._sending[rid] = asyncio.create_task(self._deliver(rid, state))

    async def _decide(self, rid: str, state: GateState) -> None:
        req = state.request
        if state.rejected_by:
            comment = f"rejected by {state.rejected_by} in the cockpit: {state.reject_reason}"
            await self._decided(rid, state, "rejected", comment)
            return
        need = required(self.deps.policy.config, req.environment)
        if len(state.approvals) < need:
            self.waiting[rid] = [f"{len(state.approvals)} of {need} approval(s)"]
            return
        why, gates = gate_decisions.promote_blockers(
            self.deps.hub.snapshot,
            self.deps.policy,
            req.service,
            req.environment,
            req.version,
            self.deps.clock.now(),
        )
        self.waiting[rid] = why
        if why:  # approved, but the gates do not agree yet: wait, and say why once
            if why != state.waiting:
                await self._append(
                    "gate.changed",
                    "wait",
                    request_id=rid,
                    target=self._target(req),
                    extra={"gate": "github", "reasons": why, "gates": gates},
                    action="approve",
                )
                self.deps.hub.poke(GATE_SOURCE)
            return
        comment = f"approved in the cockpit by {', '.join(state.approvals)}; promote gates pass"
        await self._decided(rid, state, "approved", comment, gates)

    async def _decided(
        self,
        rid: str,
        state: GateState,
        answer: str,
        comment: str,
        gates: list[dict[str, str]] | None = None,
    ) -> None:
        from cockpit.audit import AuditEvent, EventType

        comment = clean(comment, limit=900)
        event = AuditEvent(
            EventType.GATE_DECIDED,
            self.deps.actor,
            self._target(state.request),
            "approve" if answer == "approved" else "reject",
            answer,
            evidence={"gates": gates or []},
            request_id=rid,
            extra={"comment": comment, "approvers": list(state.approvals)},
        )
        await self.deps.journal.append(event)
        state.decided, state.comment = answer, comment
        self.deps.hub.poke(GATE_SOURCE)

    # Telling GitHub -----------------------------------------------------------------
    async def _deliver(self, rid: str, state: GateState) -> None:
        gh = self.deps.config.github
        if gh is None:
            return
        retry = gh.retry
        attempt = state.failures
        try:
            while attempt < retry.attempts:
                attempt += 1
                error = await self._post(state)
                if not error:
                    await self._append(
                        "gate.answered",
                        "delivered",
                        request_id=rid,
                        target=self._target(state.request),
                        extra={"state": state.decided, "attempts": attempt},
                    )
                    self.deps.hub.poke(GATE_SOURCE)
                    return
                await self._append(
                    "gate.callback_failed",
                    "failed",
                    request_id=rid,
                    target=self._target(state.request),
                    extra={"state": state.decided, "attempt": attempt, "error": error},
                )
                self.deps.hub.poke(GATE_SOURCE)
                await self.deps.sleep(min(retry.max, retry.first * 2 ** (attempt - 1)))
            log.warning("gave up telling GitHub about %s after %d attempts", rid, attempt)
        except Exception:  # the log or the loop failed: the next settle starts it again
            log.exception("telling GitHub about %s failed", rid)
            self._sending.pop(rid, None)

    async def _post(self, state: GateState) -> str:
        """One attempt; "" when GitHub took it, else what went wrong (no token, no body)."""
        import httpx

        gh = self.deps.config.github
        assert gh is not None
        body = {
            "environment_name": state.request.github_environment,
            "state": state.decided,
            "comment": state.comment,
        }
        with contextlib.suppress(ValueError):
            # Looked up again per attempt: an installation token lasts an hour, and a
            # keyring entry a helper refreshes is picked up (else the one read at start).
            gh.token.resolve()
        headers = {
            "Authorization": f"Bearer {gh.token.reveal()}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        client = self.deps.client
        own = client is None
        if own:
            client = httpx.AsyncClient(timeout=CALLBACK_TIMEOUT, follow_redirects=False)
        try:
            response = await client.post(state.request.callback_url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__} calling GitHub"
        finally:
            if own:
                await client.aclose()
        if 200 <= response.status_code < 300:
            return ""
        return f"HTTP {response.status_code} from GitHub"

    async def run(self, interval: float = 2.0) -> None:
        """Settle every `interval` seconds until cancelled: approvals made on any cockpit
        sharing the store reach GitHub within about that."""
        while True:
            try:
                await self.settle()
            except Exception:  # an unreadable log now is tried again next round
                log.exception("settling the gate requests failed")
            await asyncio.sleep(interval)

    async def close(self) -> None:
        for task in self._sending.values():
            task.cancel()
        for task in self._sending.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._sending.clear()

    async def idle(self) -> None:
        """Wait for every send in flight to finish (tests, and a clean stop)."""
        tasks = list(self._sending.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # Argo Rollouts / Flagger --------------------------------------------------------
    async def canary_answer(
        self, gate: str, service: str, environment: str, *, verdict_needed: bool = True
    ) -> gate_decisions.Answer:
        """The answer for a rollout waiting on the cockpit, audited when it changed."""
        return await self.canaries.answer(gate, service, environment, verdict_needed=verdict_needed)
