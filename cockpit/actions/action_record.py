"""The executor's one path into the audit log: an action's records and its signed approvals."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cockpit.actions.plan import Plan
from cockpit.actions.policy import Decision
from cockpit.actions.policy_config import IdentityConfig
from cockpit.clock import Clock
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.audit import Actor, AuditRecord, EventType, Target


class AuditUnavailable(Exception):
    """A record could not be written; what it would have preceded does not happen."""


class ActionRecorder:
    def __init__(
        self,
        audit: Any,  # cockpit.audit.AuditStore, called through AuditWriter (off the loop)
        *,
        clock: Clock,
        identity: IdentityConfig,
    ) -> None:
        self.audit = audit
        self.clock = clock
        self.identity = identity
        self.stamp: Mapping[str, Any] = {}
        """Added to every record's extra: team mode's os_user, db_role, identity_mismatch."""

    async def record(
        self,
        event_type: EventType,
        plan: Plan,
        actor: Actor,
        outcome: str,
        reason: str,
        ticket: str,
        request_id: str,
        decision: Decision,
        break_glass: bool,
        extra: Mapping[str, Any] | None = None,
        *,
        remote_id: str = "",
    ) -> AuditRecord:
        """Append one record of `plan`'s attempt; returns it as stored (its seq, its time)."""
        from cockpit.audit import AuditEvent

        action = plan.action
        event = AuditEvent(
            event_type=event_type,
            actor=actor,
            target=_target(plan, remote_id),
            action=action.kind.value,
            outcome=outcome,
            reason=reason,
            ticket=ticket,
            evidence=plan.evidence(),
            policy=decision.as_record(break_glass),
            request_id=request_id,
            break_glass=break_glass,
            extra={**self.stamp, **(extra or {})},
        )
        return await self._append(event)

    async def note(
        self,
        event_type: EventType,
        plan: Plan,
        actor: Actor,
        outcome: str,
        request_id: str,
        extra: Mapping[str, Any],
    ) -> AuditRecord:
        """A record about an attempt already on the log (same target and request id), with
        no reason, evidence or policy of its own: e.g. its annotation failed."""
        from cockpit.audit import AuditEvent

        event = AuditEvent(
            event_type=event_type,
            actor=actor,
            target=_target(plan, ""),
            action=plan.action.kind.value,
            outcome=outcome,
            request_id=request_id,
            extra={**self.stamp, **extra},
        )
        return await self._append(event)

    async def _append(self, event: Any) -> AuditRecord:
        try:
            record: AuditRecord = await self.audit.append(event)
        except Exception as exc:  # read-only file, full disk, a trigger: any write failure
            raise AuditUnavailable(clean(f"{type(exc).__name__}: {exc}", limit=300)) from exc
        return record

    async def sign(self, plan: Plan, actor: Actor) -> tuple[Actor, dict[str, Any]]:
        """Sign this approval with the operator's SSH key and verify it (R-B6)."""
        from cockpit.audit import Target, sshsig

        ident = self.identity
        if not ident.signing_key or not ident.allowed_signers:
            raise ValueError("set identity.signing_key and identity.allowed_signers in the config")
        action = plan.action
        target = Target(
            service=action.service,
            environment=action.environment,
            to_version=plan.to_version,
            digest=plan.digest,
            source=action.source,
            remote_id=action.remote_id,
        )
        head = await self.audit.call(lambda store: store.head())
        prev = head.hash if head is not None else "0" * 64
        now = self.clock.now()
        payload = sshsig.approval_payload(
            action=action.kind.value, target=target, prev_hash=prev, time=now
        )
        signature = await asyncio.to_thread(
            sshsig.sign, payload, key=ident.signing_key, namespace=ident.namespace
        )
        signed = await asyncio.to_thread(
            lambda: sshsig.verify_approval(
                payload,
                signature,
                principal=ident.principal or actor.user,
                allowed_signers=ident.allowed_signers or "",
                now=now,
                nonce_used=lambda n: self.audit.call_sync(lambda store: store.nonce_used(n)),
                action=action.kind.value,
                target=target,
                namespace=ident.namespace,
                revoked=ident.revoked,
            )
        )
        return signed.actor(actor), signed.extra()


def _target(plan: Plan, remote_id: str) -> Target:
    from cockpit.audit import Target

    action = plan.action
    return Target(
        service=action.service,
        environment=action.environment,
        from_version=plan.from_version,
        to_version=plan.to_version,
        digest=plan.digest,
        source=action.source,
        remote_id=remote_id
        or action.remote_id
        or (plan.approval.remote_id if plan.approval else ""),
    )


def event(name: str) -> EventType:
    # The audit package is imported on first use, off the start-up path.
    from cockpit.audit import EventType

    return EventType[name]
