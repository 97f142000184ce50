"""The auditor's report as plain-text tables: what `cockpit audit report` prints by default."""

from __future__ import annotations

from collections.abc import Sequence

from cockpit.audit.report import Change, Report
from cockpit.audit.report_hotfix import OVERDUE, Hotfix
from cockpit.sanitize import clean

# Every column but the last is capped, so one long name cannot push the reason off screen;
# the last (reason, ticket) is left whole: it is what the auditor reads.
CELL_LIMIT = 32
GAP = "  "

_CHANGE_HEAD = (
    "WHEN (UTC)", "SERVICE", "ENV", "ACTION", "VERSIONS", "REQUESTED BY", "APPROVERS",
    "OUTCOME", "BREAK-GLASS", "TICKET", "RECORDS", "REASON",
)  # fmt: skip
_HOTFIX_HEAD = (
    "RECORD", "FOLLOW-UP", "DUE (UTC)", "WHEN (UTC)", "SERVICE", "ENV", "VERSION", "BY", "TICKET",
)  # fmt: skip


def table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Left-aligned columns two spaces apart, every cell cleaned of control characters."""
    last = len(head) - 1
    cells = [
        [clean(v, limit=None if i == last else CELL_LIMIT) for i, v in enumerate(row)]
        for row in rows
    ]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(head)]
    lines = []
    for row in [list(head), *cells]:
        padded = [v.ljust(widths[i]) if i < last else v for i, v in enumerate(row)]
        lines.append(GAP.join(padded).rstrip())
    return lines


def _versions(change: Change) -> str:
    if change.from_version and change.to_version:
        return f"{change.from_version} -> {change.to_version}"
    return change.to_version or change.from_version or "-"


def _change_row(c: Change) -> tuple[object, ...]:
    return (
        c.time, c.service, c.environment, c.action, _versions(c), c.requested_by,
        ", ".join(c.approvers) or "-", c.outcome, "YES" if c.break_glass else "no",
        c.ticket or "-", " ".join(map(str, c.seqs)), c.reason or "-",
    )  # fmt: skip


def _hotfix_row(h: Hotfix) -> tuple[object, ...]:
    return (
        h.record, "OVERDUE" if h.state == OVERDUE else "pending",
        h.follow_up_due or "(not recorded)", h.time, h.service, h.environment, h.version,
        h.actor, h.ticket or "-",
    )  # fmt: skip


def _section(title: str, head: Sequence[str], rows: list[tuple[object, ...]], empty: str) -> str:
    body = table(head, rows) if rows else [empty]
    return "\n".join([f"{title} ({len(rows)})", *body])


def to_text(report: Report) -> str:
    sections = [
        f"Production changes {report.since} to {report.until} (since inclusive, until exclusive)\n"
        f"Generated {report.generated}. {clean(report.integrity)}",
        _section(
            "Changes to production",
            _CHANGE_HEAD,
            [_change_row(c) for c in report.changes],
            "No production change was attempted in this period.",
        ),
        _section(
            "Break-glass uses",
            _CHANGE_HEAD,
            [_change_row(c) for c in report.break_glass],
            "No break-glass use in this period.",
        ),
        _section(
            "Hotfixes without a follow-up ticket",
            _HOTFIX_HEAD,
            [_hotfix_row(h) for h in report.hotfixes_without_follow_up],
            "Every hotfix of this period has its follow-up ticket.",
        ),
        "Digests and gates: --format html, csv or json.",
    ]
    return "\n\n".join(sections) + "\n"
