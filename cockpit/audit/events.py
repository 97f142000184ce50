"""What the cockpit writes to the audit log: event types, who did it, to what, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """The closed set of audit events; a record with any other type is refused."""

    APP_START = "app.start"
    APP_EXIT = "app.exit"
    ACTION_REQUESTED = "action.requested"
    ACTION_SUCCEEDED = "action.succeeded"
    ACTION_FAILED = "action.failed"
    ACTION_REFUSED = "action.refused"
    ACTION_CANCELLED = "action.cancelled"
    APPROVAL_PENDING = "approval.pending"  # a two-person request was created
    APPROVAL_GRANTED = "approval.granted"
    APPROVAL_REJECTED = "approval.rejected"
    BREAKGLASS_USED = "breakglass.used"
    VERDICT_RECORDED = "verdict.recorded"  # canary judge verdict, auto-rollback evidence
    HOTFIX_FOLLOW_UP = "hotfix.follow_up"  # links a hotfix to its follow-up ticket
    # A connector's after-success hook (a Grafana annotation) failed; the action stands.
    ANNOTATION_FAILED = "annotation.failed"
    AUDIT_INITIALIZED = "audit.initialized"  # PCI 10.2.1.6: the log was created
    AUDIT_VERIFIED = "audit.verified"
    AUDIT_CHECKPOINT = "audit.checkpoint"
    AUDIT_EXPORTED = "audit.exported"
    AUDIT_COPIED = "audit.copied"  # a personal log moved into the team store (audit copy)
    AUDIT_READ = "audit.read"  # PCI 10.2.1.3: reading the log through the cockpit
    AUDIT_SEALED = "audit.seal"  # old records moved into an archive segment (retention)
    AUDIT_PURGED = "audit.purge"  # archive segments past retention deleted, signed
    INCIDENT_OPENED = "incident.open"  # an operator declared an incident (cockpit incident open)
    INCIDENT_CLOSED = "incident.close"
    # The cockpit as the gate (cockpit.controller.gates_http): a webhook refused (bad
    # signature), a GitHub protection-rule request filed, its answer decided, each callback
    # attempt that failed, the answer delivered; Argo Rollouts / Flagger answers per change.
    WEBHOOK_REFUSED = "webhook.refused"
    GATE_REQUESTED = "gate.requested"
    GATE_DECIDED = "gate.decided"
    GATE_CALLBACK_FAILED = "gate.callback_failed"
    GATE_ANSWERED = "gate.answered"
    GATE_CHANGED = "gate.changed"
    # Team mode's policy (cockpit policy push): a version stored (extra: version, digest,
    # pushed_by = the database role), or a push refused (not a cockpit_policy_admin).
    POLICY_PUSHED = "policy.pushed"
    POLICY_PUSH_REFUSED = "policy.push_refused"
    # The headless controller (cockpit controller): it became the team's leader (extra:
    # host, pid, os_user and took_over_from, the lease it found), or stepped down.
    CONTROLLER_STARTED = "controller.started"
    CONTROLLER_STOPPED = "controller.stopped"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted and from where. Optional fields are empty, never None, in the record."""

    user: str
    host: str
    ssh_client: str
    pid: int
    version: str
    principal: str = ""  # from a verified SSH signature
    signature: str = ""  # armored SSHSIG over the approval payload
    key_fingerprint: str = ""
    key_type: str = ""  # "sk-..." keys imply a hardware touch (R-B7)
    agent_forwarded_suspected: bool = False

    def to_data(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _ACTOR_FIELDS}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Actor:
        return cls(**{name: data[name] for name in _ACTOR_FIELDS if name in data})


@dataclass(frozen=True, slots=True)
class Target:
    """What was acted on. A missing target is written as one with every field empty."""

    service: str = ""
    environment: str = ""
    from_version: str = ""
    to_version: str = ""
    digest: str = ""
    source: str = ""  # the connector instance
    remote_id: str = ""  # the remote system's id (run, approval, rollout)

    def to_data(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in _TARGET_FIELDS}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Target | None:
        target = cls(**{name: data[name] for name in _TARGET_FIELDS if name in data})
        return None if target == EMPTY_TARGET else target


EMPTY_TARGET = Target()
# Field names looked up once: `fields` on every record cost 0.2 s of reading 20,000 records.
_ACTOR_FIELDS = tuple(f.name for f in fields(Actor))
_TARGET_FIELDS = tuple(f.name for f in fields(Target))


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One thing that happened, before the log gives it a sequence number and a hash.

    `evidence` holds what the operator saw (e.g. {"gates": [...], "verdict_digest": ...});
    `policy` the decision (e.g. {"decision": "allowed", "reasons": [...]});
    `request_id` links the requested/succeeded/failed records of one attempt.
    """

    event_type: EventType
    actor: Actor
    target: Target | None
    action: str
    outcome: str
    reason: str = ""
    ticket: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    policy: Mapping[str, Any] = field(default_factory=dict)
    request_id: str = ""
    break_glass: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A typo'd string event type must fail here, not produce an unreadable record.
        object.__setattr__(self, "event_type", EventType(self.event_type))
        if not self.outcome:
            raise ValueError("an audit event needs an outcome")
