"""The evidence pack's control map: for each production change, the records meeting each control.

Plain data from the log's own records, no judgement the records cannot back: a control a
change's records do not show met is "missing", with what is missing in words. The regulation
sections are named, never quoted; docs/compliance.md says which record field meets which.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cockpit.audit.canonical import utc_text
from cockpit.audit.events import Actor, EventType
from cockpit.audit.records import AuditRecord, VerifyResult
from cockpit.audit.report import who

SOX, PCI, HIPAA = "sox", "pci", "hipaa"
CONTROLS: dict[str, tuple[str, str]] = {
    SOX: (
        "SOX ITGC change management",
        "approved before it was deployed, by someone other than its author",
    ),
    PCI: (
        "PCI DSS v4.0 10.2.1, 10.2.2 (v3.2.1 10.3.1-10.3.6)",
        "each record has user, event type, time, outcome, origin and affected resource",
    ),
    HIPAA: (
        "HIPAA 45 CFR 164.312(b) audit controls",
        "the activity is recorded, the chain verifies, and reading the log is recorded",
    ),
}
# Actions that change what runs in production. An approve is one when it releases another
# system's deployment (the cockpit's own two-person approvals fold into the change they
# approve); pause, resume, silences and CI re-runs are in the report but not in the map.
DEPLOYING = frozenset({"promote", "rollback", "sync", "restart", "retry", "abort", "approve"})
REVIEWS = (EventType.AUDIT_READ, EventType.AUDIT_EXPORTED, EventType.AUDIT_VERIFIED)
_ROLES = {
    EventType.APPROVAL_PENDING: "request",
    EventType.APPROVAL_GRANTED: "approval",
    EventType.APPROVAL_REJECTED: "rejection",
    EventType.BREAKGLASS_USED: "break-glass",
    EventType.ACTION_REQUESTED: "deploy",
    EventType.ACTION_SUCCEEDED: "outcome",
    EventType.ACTION_FAILED: "outcome",
    EventType.ACTION_REFUSED: "refused",
    EventType.ACTION_CANCELLED: "cancelled",
}
STEPS = tuple(_ROLES)  # the event types of an attempt's records
_SHOWN = 12  # review records cited per change; the rest counted


def person(actor: Actor) -> frozenset[str]:
    """The names one person acts under in a record: OS login and verified principal."""
    return frozenset(n for n in (actor.user, actor.principal) if n)


@dataclass(frozen=True)
class Cited:
    """One record named as evidence: its number, its hash and what it shows."""

    seq: int
    hash: str
    role: str

    def as_data(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "role": self.role}


@dataclass(frozen=True)
class Cell:
    """One control for one change: satisfied by `records`, or missing what `missing` says."""

    control: str
    records: tuple[Cited, ...]
    missing: tuple[str, ...] = ()
    note: str = ""

    @property
    def satisfied(self) -> bool:
        return not self.missing

    def as_data(self) -> dict[str, Any]:
        return {
            "status": "satisfied" if self.satisfied else "missing",
            "records": [c.as_data() for c in self.records],
            "missing": list(self.missing),
            "note": self.note,
        }


@dataclass
class MappedChange:
    """A production change that ran, its people and gates, and its control cells."""

    request_id: str
    time: str  # when it was deployed (its action.requested record), UTC
    service: str
    environment: str
    action: str
    from_version: str
    to_version: str
    digest: str
    author: str
    deployed_by: str
    approvers: list[str]
    outcome: str
    break_glass: bool
    lane: str
    reason: str
    ticket: str
    gates: list[dict[str, Any]]  # name, status, evidence, facts: as the deploy record has them
    seqs: list[int]
    records: list[AuditRecord] = field(default_factory=list, repr=False)
    cells: dict[str, Cell] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k not in ("cells", "records")}
        data["controls"] = {k: c.as_data() for k, c in self.cells.items()}
        return data


def _cite(r: AuditRecord, role: str = "") -> Cited:
    return Cited(r.seq, r.hash, role or _ROLES.get(r.event_type) or str(r.event_type))


def _gates(r: AuditRecord) -> list[dict[str, Any]]:
    gates = r.evidence.get("gates")
    if not isinstance(gates, list):
        return []
    out = []
    for g in gates:
        if isinstance(g, Mapping):
            facts = g.get("facts")
            out.append(
                {
                    "name": str(g.get("name", "?")),
                    "status": str(g.get("status", "?")),
                    "evidence": str(g.get("evidence", "")),
                    "facts": {str(k): str(v) for k, v in facts.items()}
                    if isinstance(facts, Mapping)
                    else {},
                }
            )
    return out


def attempts(records: Iterable[AuditRecord]) -> dict[str, list[AuditRecord]]:
    """The records of each attempt (action.*, approval.*, breakglass.*), by request id."""
    out: dict[str, list[AuditRecord]] = {}
    for r in records:
        if r.event_type in _ROLES and r.request_id:
            out.setdefault(r.request_id, []).append(r)
    return out


def mapped_changes(
    period: Sequence[AuditRecord],
    context: Mapping[str, list[AuditRecord]],
    production: Any,
) -> list[MappedChange]:
    """Production changes deployed in `period`, with every record of their attempt.

    `context` holds the attempts' records from before the period too (a request approved
    at 23:50 and deployed at 00:10 belongs to the next day's change, approval and all).
    """
    out = []
    for r in period:
        if r.event_type is not EventType.ACTION_REQUESTED or r.action not in DEPLOYING:
            continue
        t = r.target
        if t is None or not production(t.environment):
            continue
        if r.action == "approve" and t.source == "cockpit":
            continue  # a two-person approval: part of the change it approved
        by_seq = {x.seq: x for x in context.get(r.request_id, ())}
        by_seq[r.seq] = r
        group = [by_seq[s] for s in sorted(by_seq)]
        first = next((x for x in group if x.event_type is EventType.APPROVAL_PENDING), None)
        author = first.actor if first is not None else r.actor
        initiator = str(r.extra.get("initiator", "")) if first is None else ""
        final = [x for x in group if x.seq > r.seq and x.event_type in _FINAL]
        out.append(
            MappedChange(
                request_id=r.request_id,
                time=utc_text(r.ts),
                service=t.service,
                environment=t.environment,
                action=r.action,
                from_version=t.from_version,
                to_version=t.to_version,
                digest=t.digest,
                author=initiator or who(author),
                deployed_by=who(r.actor),
                approvers=[
                    who(x.actor)
                    for x in group
                    if x.event_type is EventType.APPROVAL_GRANTED and x.seq < r.seq
                ],
                outcome=_FINAL[final[0].event_type] if final else "no outcome recorded",
                break_glass=any(x.break_glass for x in group),
                lane=str(r.policy.get("lane", "")),
                reason=next((x.reason for x in group if x.reason), ""),
                ticket=next((x.ticket for x in group if x.ticket), ""),
                gates=_gates(r),
                seqs=[x.seq for x in group],
                records=group,
            )
        )
    return out


_FINAL = {
    EventType.ACTION_SUCCEEDED: "succeeded",
    EventType.ACTION_FAILED: "failed",
    EventType.ACTION_CANCELLED: "cancelled",
}


def sox(change: MappedChange, group: Sequence[AuditRecord]) -> Cell:
    """Approved before deployment by someone other than the author (two-person records)."""
    deploy = next(r for r in group if r.event_type is EventType.ACTION_REQUESTED)
    if deploy.action == "approve":
        # Releasing another system's deployment: this record is the approval. The policy
        # refuses an approver who requested the change; a note says when it could not tell.
        unchecked = [n for n in deploy.policy.get("notes", []) if "segregation" in str(n)]
        if deploy.policy.get("decision") != "allowed" or unchecked:
            why = "; ".join(map(str, unchecked)) or "the approval was not allowed by policy"
            return Cell(SOX, (_cite(deploy, "approval"),), (f"segregation of duties: {why}",))
        return Cell(
            SOX,
            (_cite(deploy, "approval"),),
            note=f"approval of a deployment requested in {deploy.target.source if deploy.target else '?'}",
        )
    request = next((r for r in group if r.event_type is EventType.APPROVAL_PENDING), None)
    author = person(request.actor if request is not None else deploy.actor)
    initiator = str(deploy.extra.get("initiator", ""))
    if initiator:
        author |= {initiator}
    approvals = [
        r for r in group if r.event_type is EventType.APPROVAL_GRANTED and r.seq < deploy.seq
    ]
    others = [r for r in approvals if not (person(r.actor) & author)]
    required = int(request.extra.get("required", 1)) if request is not None else 1
    asked = [_cite(request)] if request is not None else []
    cited = tuple([*asked, *(_cite(r) for r in others), _cite(deploy)])
    if len({who(r.actor) for r in others}) >= required:
        return Cell(SOX, cited)
    if approvals and not others:
        gap = "an approval by someone other than the author (only the author approved)"
    elif others:
        gap = f"{required} approvals by people other than the author ({len(others)} recorded)"
    else:
        gap = "an approval by someone other than the author before deployment (none recorded)"
    glass = (
        " Deployed under break-glass: an emergency change, reviewed after."
        if change.break_glass
        else ""
    )
    lane = f" Deployed in the {change.lane} lane." if change.lane else ""
    return Cell(SOX, cited, (gap,), note=(glass + lane).strip())


def pci(change: MappedChange, group: Sequence[AuditRecord]) -> Cell:
    """Every record of the change carries the 10.2.2 fields, and its outcome was recorded."""
    missing = []
    for r in group:
        t = r.target
        absent = [
            name
            for name, value in (
                ("user (actor.user)", r.actor.user),
                ("event type", str(r.event_type)),
                ("outcome", r.outcome),
                ("origin (actor.host)", r.actor.host),
                ("affected resource (target.service)", t.service if t else ""),
                ("affected resource (target.environment)", t.environment if t else ""),
            )
            if not value
        ]
        if absent:
            missing.append(f"record {r.seq} has no {', '.join(absent)}")
    if change.outcome == "no outcome recorded":
        missing.append("a success or failure record after the deploy record")
    return Cell(PCI, tuple(_cite(r) for r in group), tuple(missing))


def hipaa(
    change: MappedChange,
    group: Sequence[AuditRecord],
    verified: VerifyResult,
    reviews: Sequence[AuditRecord],
) -> Cell:
    """The change is recorded, the chain verifies over its records, and the log is reviewed."""
    missing = []
    if not verified.ok:
        missing.append(f"a verified chain: {verified.describe()}")
    elif max(r.seq for r in group) > verified.count:
        missing.append(f"a verified chain over record {max(r.seq for r in group)}")
    if not reviews:
        missing.append(
            "a recorded read of the audit log in the period (audit.read, audit.exported "
            "or audit.verified)"
        )
    cited = [_cite(r) for r in group] + [_cite(r, "review") for r in reviews[-_SHOWN:]]
    more = len(reviews) - _SHOWN
    note = f"{more} earlier review record(s) in the period not listed" if more > 0 else ""
    return Cell(HIPAA, tuple(cited), tuple(missing), note)


def control_map(
    period: Sequence[AuditRecord],
    context: Mapping[str, list[AuditRecord]],
    *,
    production: Any,
    verified: VerifyResult,
    controls: Sequence[str],
) -> list[MappedChange]:
    """Each production change deployed in `period`, with a cell per selected control."""
    reviews = [r for r in period if r.event_type in REVIEWS]
    changes = mapped_changes(period, context, production)
    for change in changes:
        group = change.records
        for control in controls:
            if control == SOX:
                change.cells[SOX] = sox(change, group)
            elif control == PCI:
                change.cells[PCI] = pci(change, group)
            elif control == HIPAA:
                change.cells[HIPAA] = hipaa(change, group, verified, reviews)
    return changes


def parse_controls(text: str) -> tuple[str, ...]:
    """`sox,pci,hipaa` as a tuple in that order; ValueError naming an unknown one."""
    asked = [c.strip().lower() for c in text.split(",") if c.strip()]
    unknown = [c for c in asked if c not in CONTROLS]
    if unknown or not asked:
        raise ValueError(
            f"unknown control {unknown[0]!r}: choose from {', '.join(CONTROLS)}"
            if unknown
            else f"name at least one control: {', '.join(CONTROLS)}"
        )
    return tuple(c for c in CONTROLS if c in asked)
