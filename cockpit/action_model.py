"""Actions as plain data: what the cockpit may ask a connector to change, and the answer.

The executor is the only runner of an `Action`. Named in `cockpit.model` too, so a
connector needs that one import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ActionKind(StrEnum):
    """Every mutation the cockpit can ask a connector for."""

    APPROVE = "approve"
    REJECT = "reject"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"
    SYNC = "sync"
    # Three permissions, not one: re-running CI is routine, restarting or retrying what
    # serves production traffic is not.
    RERUN = "rerun"  # re-run a pipeline's failed jobs
    RESTART = "restart"  # restart a deployment's pods (kubectl rollout restart)
    RETRY = "retry"  # retry an aborted canary rollout (kubectl argo rollouts retry)
    # Alert silences change what pages people, not what runs: their own permissions.
    SILENCE = "silence"  # silence a firing alert's matchers for a while (Alertmanager)
    UNSILENCE = "unsilence"  # expire a silence before its end


@dataclass(frozen=True, slots=True)
class Action:
    """A request to mutate something, as plain data. The executor is its only runner."""

    kind: ActionKind
    service: str
    environment: str
    source: str = ""  # the connector instance that executes it
    version: str = ""  # target version (promote) or the version rolled back to
    from_version: str = ""
    digest: str = ""
    from_environment: str = ""  # promote: where the version comes from
    approval_id: str = ""  # approve/reject: the pending approval
    remote_id: str = ""  # the remote system's id for what is acted on
    reason: str = ""  # the operator's reason; connectors pass it on as the remote comment
    ticket: str = ""  # the change ticket, for remote systems that take one
    actor: str = ""  # who asked (for remote systems that record a comment author)
    params: tuple[tuple[str, str], ...] = field(default=())

    def param(self, name: str, default: str = "") -> str:
        return dict(self.params).get(name, default)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """A connector's answer to an action: done or not, said in words, and the remote's id."""

    ok: bool
    message: str
    remote_id: str = ""
