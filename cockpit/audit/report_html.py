"""The auditor's report as one self-contained HTML page (no scripts, no external assets)."""

from __future__ import annotations

from html import escape

from cockpit.audit.report import Change, Report
from cockpit.audit.report_hotfix import OVERDUE, Hotfix
from cockpit.sanitize import clean

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #111; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2rem; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
tr.breakglass td, tr.overdue td { background: #fff1e6; }
.bad { color: #a00; font-weight: bold; }
code { font-size: 0.85rem; }
"""

_HEAD = (
    "When (UTC)", "Service", "Environment", "Action", "From", "To", "Artifact digest",
    "Requested by", "Approvers", "Outcome", "Policy", "Break-glass", "Reason", "Ticket",
    "Gates", "Records",
)  # fmt: skip


def _text(value: object) -> str:
    return escape(clean(value))


def _row(change: Change) -> str:
    cells = (
        change.time, change.service, change.environment, change.action, change.from_version,
        change.to_version, change.digest, change.requested_by, ", ".join(change.approvers) or "-",
        change.outcome, change.decision, "YES" if change.break_glass else "no", change.reason,
        change.ticket, "; ".join(change.gates) or "-", " ".join(map(str, change.seqs)),
    )  # fmt: skip
    css = ' class="breakglass"' if change.break_glass else ""
    return f"<tr{css}>" + "".join(f"<td>{_text(c)}</td>" for c in cells) + "</tr>"


def _table(changes: list[Change], empty: str) -> str:
    if not changes:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in _HEAD)
    body = "\n".join(_row(c) for c in changes)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


_HOTFIX_HEAD = (
    "Record", "Follow-up", "Due (UTC)", "When (UTC)", "Service", "Environment", "Version",
    "By", "Ticket",
)  # fmt: skip


def _hotfixes(hotfixes: list[Hotfix]) -> str:
    if not hotfixes:
        return "<p>Every hotfix of this period has its follow-up ticket.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in _HOTFIX_HEAD)
    rows = []
    for h in hotfixes:
        state = "OVERDUE" if h.state == OVERDUE else "pending"
        cells = (
            h.record, state, h.follow_up_due or "(not recorded)", h.time, h.service,
            h.environment, h.version, h.actor, h.ticket,
        )  # fmt: skip
        css = ' class="overdue"' if h.state == OVERDUE else ""
        rows.append(f"<tr{css}>" + "".join(f"<td>{_text(c)}</td>" for c in cells) + "</tr>")
    body = "\n".join(rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def to_html(report: Report) -> str:
    period = f"{report.since} to {report.until}"
    intact = report.integrity.startswith("audit log intact")
    integrity = f'<p class="{"" if intact else "bad"}">{_text(report.integrity)}</p>'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Production changes {_text(period)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Production changes</h1>
<p>Period: {_text(period)} (since inclusive, until exclusive).
Generated {_text(report.generated)}.</p>
{integrity}
<h2>Changes to production ({len(report.changes)})</h2>
{_table(report.changes, "No production change was attempted in this period.")}
<h2>Break-glass uses ({len(report.break_glass)})</h2>
{_table(report.break_glass, "No break-glass use in this period.")}
<h2>Hotfixes without a follow-up ticket ({len(report.hotfixes_without_follow_up)})</h2>
{_hotfixes(report.hotfixes_without_follow_up)}
</body>
</html>
"""
