"""The evidence pack's exceptions: what an auditor must look at beyond the control map.

Break-glass uses, hotfixes still without their follow-up ticket, approvals refused because
the approver requested the change, promotes that went ahead with a gate not passing, and
anything the verification of the log found wrong. Each names the records it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cockpit.audit.canonical import utc_text
from cockpit.audit.events import EventType
from cockpit.audit.pack_controls import MappedChange, person
from cockpit.audit.records import AuditRecord
from cockpit.audit.report import Report, who

BREAK_GLASS = "break-glass"
HOTFIX = "hotfix without follow-up"
SELF_APPROVAL = "refused self-approval"
GATE_OVERRIDDEN = "gate overridden"
VERIFY = "verify problem"
KINDS = (BREAK_GLASS, HOTFIX, SELF_APPROVAL, GATE_OVERRIDDEN, VERIFY)


@dataclass(frozen=True)
class Finding:
    """One exception: what happened, where, by whom, and the records that show it."""

    kind: str
    time: str
    service: str
    environment: str
    who: str
    what: str
    seqs: tuple[int, ...] = field(default=())

    def as_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["seqs"] = list(self.seqs)
        return data


def _break_glass(report: Report) -> list[Finding]:
    out = []
    for c in report.break_glass:
        versions = f" {c.from_version} -> {c.to_version}" if c.to_version else ""
        out.append(
            Finding(
                BREAK_GLASS,
                c.time,
                c.service,
                c.environment,
                c.requested_by,
                f"{c.action}{versions} under break-glass, {c.outcome}: {c.reason}",
                tuple(c.seqs),
            )
        )
    return out


def _hotfixes(report: Report) -> list[Finding]:
    return [
        Finding(
            HOTFIX,
            h.time,
            h.service,
            h.environment,
            h.actor,
            f"hotfix {h.version} (ticket {h.ticket or 'none'}): follow-up {h.state}, due "
            f"{h.follow_up_due or '(not recorded)'}",
            (h.record,),
        )
        for h in report.hotfixes_without_follow_up
    ]


def _self_approvals(
    period: Sequence[AuditRecord], requests: Mapping[str, AuditRecord]
) -> list[Finding]:
    """Refused approvals whose approver requested the change: by the request record when
    the change is the cockpit's own two-person request, else by the policy's words."""
    out = []
    for r in period:
        if r.event_type is not EventType.ACTION_REFUSED or r.action != "approve":
            continue
        t = r.target
        request = requests.get(t.remote_id) if t is not None else None
        same = request is not None and bool(person(request.actor) & person(r.actor))
        said = r.extra.get("refusal", r.policy.get("reasons", []))
        why = [str(x) for x in said] if isinstance(said, list) else [str(said)]
        worded = any("segregation of duties" in x for x in why)
        if not (same or worded):
            continue
        seqs = (request.seq, r.seq) if request is not None and same else (r.seq,)
        out.append(
            Finding(
                SELF_APPROVAL,
                utc_text(r.ts),
                t.service if t else "",
                t.environment if t else "",
                who(r.actor),
                "tried to approve a change they requested: refused ("
                + ("; ".join(why) or "segregation of duties")
                + ")",
                seqs,
            )
        )
    return out


def _overridden(changes: Sequence[MappedChange]) -> list[Finding]:
    """Production changes that ran with a gate not passing, and what let them."""
    out = []
    for c in changes:
        deploy = next(r for r in c.records if r.event_type is EventType.ACTION_REQUESTED)
        decision = str(deploy.policy.get("decision", ""))
        failing = [g for g in c.gates if g["status"] != "pass"]
        if not failing:
            continue
        if c.break_glass or decision == "break_glass":
            how = "break-glass"
        elif all(g["status"] == "unknown" for g in failing):
            how = "policy unknown_gates: warn"
        else:
            how = f"policy decision {decision or '(none)'}"
        gates = "; ".join(f"{g['name']} {g['status']} ({g['evidence']})" for g in failing)
        out.append(
            Finding(
                GATE_OVERRIDDEN,
                c.time,
                c.service,
                c.environment,
                c.deployed_by,
                f"{c.action} {c.to_version} went ahead under {how} with {len(failing)} "
                f"gate(s) not passing: {gates}",
                (deploy.seq,),
            )
        )
    return out


def exceptions(
    report: Report,
    period: Sequence[AuditRecord],
    context: Mapping[str, list[AuditRecord]],
    changes: Sequence[MappedChange],
    verify_problems: Sequence[str],
) -> list[Finding]:
    """Every exception of the period, grouped by kind in KINDS order."""
    requests = {
        rid: r
        for rid, group in context.items()
        for r in group
        if r.event_type is EventType.APPROVAL_PENDING
    }
    problems = [Finding(VERIFY, "", "", "", "", p) for p in verify_problems]
    return [
        *_break_glass(report),
        *_hotfixes(report),
        *_self_approvals(period, requests),
        *_overridden(changes),
        *problems,
    ]
