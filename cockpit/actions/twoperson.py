"""The two-person rule's pending requests, kept in the audit log itself.

A request is an `approval.pending` record; approvals and rejections are records with the
same request id; running it closes it. Every cockpit sharing the audit store (operators
on one host, or a team database) sees the same queue in its Approvals view, because this
built-in source reads it back from the log on every poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cockpit.connector import Capability, Connector
from cockpit.errors import Rejected
from cockpit.model import ActionKind, PendingApproval

if TYPE_CHECKING:
    from cockpit.actions.twoperson_request import TwoPersonRequest
    from cockpit.model import Action, ActionResult

TWO_PERSON_SOURCE = "cockpit"
OPEN_FOR = timedelta(hours=24)  # an unanswered request expires


@dataclass
class TwoPersonOptions:
    """The two-person source's options: the journal it reads the requests from."""

    journal: Any = None  # a cockpit.journal.Journal; set by the app, not from config


class TwoPersonConnector(Connector):
    """Reports open two-person requests from the audit log as pending approvals."""

    CAPABILITIES = frozenset({Capability.APPROVALS})
    ACTIONS = frozenset({ActionKind.APPROVE, ActionKind.REJECT})
    Options = TwoPersonOptions
    USES_HTTP = False
    DESCRIPTION = "The cockpit's own two-person approvals (built in)"

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self._requests: dict[str, TwoPersonRequest] = {}

    def request_for(self, request_id: str) -> TwoPersonRequest | None:
        return self._requests.get(request_id)

    async def approvals(self) -> Sequence[PendingApproval]:
        journal = self.options.journal
        if not journal.opened:
            return ()  # the app opens the log right after its first frame; next poll reads it
        from cockpit.audit import EventType

        since = self.clock.now() - OPEN_FOR
        kinds = [
            EventType.APPROVAL_PENDING,
            EventType.APPROVAL_GRANTED,
            EventType.APPROVAL_REJECTED,
            EventType.ACTION_REQUESTED,
            EventType.ACTION_REFUSED,
        ]
        records = await journal.call(
            lambda store: list(store.records(since=since, event_types=kinds))
        )
        return self.pending(records)

    def pending(self, records: Sequence[Any]) -> list[PendingApproval]:
        # Not before the first frame: the first poll comes before the log is opened.
        from cockpit.actions.twoperson_request import TwoPersonRequest, action_from_data
        from cockpit.audit import EventType

        open_: dict[str, dict[str, Any]] = {}
        for r in records:
            rid = r.request_id
            if r.event_type == EventType.APPROVAL_PENDING:
                open_[rid] = {"record": r, "approvals": [], "roles": []}
            elif rid in open_:
                if r.event_type == EventType.APPROVAL_GRANTED:
                    open_[rid]["approvals"].append(r.actor.user)
                    open_[rid]["roles"].append(str(r.extra.get("db_role") or ""))
                else:  # rejected, or the request ran (or was refused when it tried)
                    del open_[rid]
        out = []
        now = self.clock.now()
        for rid, entry in open_.items():
            first = entry["record"]
            extra = first.extra
            self._requests[rid] = TwoPersonRequest(
                action_from_data(extra["action"]),
                bool(first.break_glass),
                str(extra.get("db_role") or ""),
                tuple(role for role in entry["roles"] if role),
            )
            target = first.target
            out.append(
                PendingApproval(
                    id=f"{self.name}:{rid}",
                    service=target.service if target else "",
                    environment=target.environment if target else "",
                    kind="two-person",
                    title=str(extra.get("title") or f"{first.action} requested"),
                    requested_by=first.actor.user,
                    requested_at=first.ts if hasattr(first.ts, "tzinfo") else now,
                    source=self.name,
                    observed_at=now,
                    version=target.to_version if target else "",
                    digest=target.digest if target else "",
                    remote_id=rid,
                    required=int(extra.get("required", 1)),
                    approvals=tuple(entry["approvals"]),
                )
            )
        return out

    async def execute(self, action: Action) -> ActionResult:
        raise Rejected("two-person requests are decided by the executor, not executed directly")
