"""After a recorded success: every connector that listens hears of it, briefly, and can't undo it.

The action already happened and is on the audit log, so nothing here may change its outcome
or hold the operator's result back for long: the listeners (a Grafana annotation) run at
once, each under one short timeout, and a failure becomes a log line and an
`annotation.failed` record instead of an error.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from cockpit.actions.action_record import ActionRecorder, AuditUnavailable, event
from cockpit.actions.plan import Plan
from cockpit.connector import ActionDone, Connector, implemented
from cockpit.fleet.hub import Hub
from cockpit.model import Action, ActionResult
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.audit import Actor, AuditRecord

log = logging.getLogger(__name__)

LISTENER_TIMEOUT = 3.0
"""Seconds each listener may take: an incident's next key press should not wait on Grafana."""


class AfterSuccess:
    """Tells the hub's listening connectors about each successful action."""

    def __init__(
        self, hub: Hub, recorder: ActionRecorder, timeout: float = LISTENER_TIMEOUT
    ) -> None:
        self.hub = hub
        self.recorder = recorder
        self.timeout = timeout

    def listeners(self) -> list[Connector]:
        found = (self.hub.connector(name) for name in self.hub.names)
        return [c for c in found if c is not None and implemented(type(c), "action_done")]

    async def tell(
        self,
        plan: Plan,
        action: Action,
        result: ActionResult,
        record: AuditRecord,
        actor: Actor,
    ) -> None:
        """Never raises; returns within the timeout (plus one audit write per failure)."""
        listeners = self.listeners()
        if not listeners:
            return
        done = ActionDone(
            replace(action, from_version=plan.from_version, version=plan.to_version),
            result,
            record.seq,
            record.ts,
        )
        errors = await asyncio.gather(*(self._one(c, done) for c in listeners))
        for connector, error in zip(listeners, errors, strict=True):
            if not error:
                continue
            log.warning("%s: after %s #%d: %s", connector.name, action.kind, record.seq, error)
            try:
                await self.recorder.note(
                    event("ANNOTATION_FAILED"),
                    plan,
                    actor,
                    "failed",
                    record.request_id,
                    {"connector": connector.name, "error": error, "record": record.seq},
                )
            except AuditUnavailable as exc:
                log.warning("annotation.failed could not be recorded: %s", exc)

    async def _one(self, connector: Connector, done: ActionDone) -> str:
        """Why `connector` did not take it (one cleaned line), or "" when it did."""
        try:
            async with asyncio.timeout(self.timeout):
                await connector.action_done(done)
        except TimeoutError:
            return f"no answer within {self.timeout:g}s"
        except Exception as exc:  # a listener's failure of any kind leaves the action as it is
            return clean(f"{type(exc).__name__}: {exc}", limit=300)
        return ""
