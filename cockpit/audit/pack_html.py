"""The evidence pack's report.html: one self-contained page (inline CSS, no script, nothing fetched).

Every value comes from audit records, which hold untrusted text (reasons, names, messages):
each is cleaned of control characters and HTML-escaped, and no value is ever put in an
attribute, a style or a URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from cockpit.audit.pack_controls import CONTROLS, Cell, MappedChange
from cockpit.audit.pack_exceptions import KINDS, Finding
from cockpit.audit.pack_model import Contents
from cockpit.sanitize import clean

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #111; max-width: 110rem; }
table { border-collapse: collapse; width: 100%; table-layout: auto; margin-bottom: 1.5rem; font-size: 0.85rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.45rem; text-align: left; vertical-align: top; }
th { background: #eee; }
pre { background: #f6f6f6; border: 1px solid #ccc; padding: 0.6rem; white-space: pre-wrap; }
code, .hash { font-family: ui-monospace, monospace; font-size: 0.8rem; word-break: break-all; }
.ok { color: #075; font-weight: bold; }
.bad { color: #a00; font-weight: bold; }
tr.glass td { background: #fff1e6; }
ul { margin: 0; padding-left: 1.1rem; }
"""


def _t(value: object, limit: int = 2000, *, multiline: bool = False) -> str:
    return escape(clean(value, limit=limit, multiline=multiline))


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], css: Sequence[str] = ()) -> str:
    """`rows` hold cells already escaped; `css` a class per row ("" for none)."""
    heads = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = []
    for i, row in enumerate(rows):
        cls = css[i] if i < len(css) and css[i] else ""
        attr = f' class="{cls}"' if cls else ""
        body.append(f"<tr{attr}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return (
        f"<table>\n<thead><tr>{heads}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + ("\n</tbody>\n</table>")
    )


def _gates(change: MappedChange) -> str:
    if not change.gates:
        return "-"
    items = []
    for g in change.gates:
        status = g["status"]
        css = "ok" if status == "pass" else "bad"
        facts = "".join(
            f"<br><code>{_t(k, 100)}={_t(v, 300)}</code>" for k, v in sorted(g["facts"].items())
        )
        items.append(
            f'<li>{_t(g["name"], 100)}: <span class="{css}">{_t(status, 20)}</span>'
            f" {_t(g['evidence'], 300)}{facts}</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


def _versions(c: MappedChange) -> str:
    if c.from_version and c.to_version and c.from_version != c.to_version:
        return f"{c.from_version} → {c.to_version}"
    return c.to_version or c.from_version or "-"


def _changes(changes: list[MappedChange]) -> str:
    if not changes:
        return "<p>No production change was deployed in this period.</p>"
    head = ("Change", "Artifact digest", "People", "Outcome", "Reason, ticket", "Gates", "Records")
    rows = []
    for c in changes:
        outcome = _t(c.outcome) + ("<br><b>BREAK-GLASS</b>" if c.break_glass else "")
        outcome += f"<br>{_t(c.lane)} lane" if c.lane else ""
        rows.append(
            (
                f"<b>{_t(c.service)}</b> in {_t(c.environment)}<br>{_t(c.action)} "
                f"{_t(_versions(c))}<br>{_t(c.time)}",
                f'<span class="hash">{_t(c.digest) or "-"}</span>',
                f"author: {_t(c.author)}<br>deployed by: {_t(c.deployed_by)}<br>"
                f"approvers: {_t(', '.join(c.approvers) or 'none')}",
                outcome,
                f"{_t(c.reason)}<br>ticket: {_t(c.ticket or '-')}",
                _gates(c),
                _t(" ".join(map(str, c.seqs))),
            )
        )
    return _table(head, rows, ["glass" if c.break_glass else "" for c in changes])


def _cell(cell: Cell) -> tuple[str, str]:
    status = (
        '<span class="ok">satisfied</span>'
        if cell.satisfied
        else '<span class="bad">MISSING</span>'
    )
    cited = "<br>".join(
        f'{r.seq} {_t(r.role, 40)} <span class="hash">{_t(r.hash[:16])}…</span>'
        for r in cell.records
    )
    words = [f"missing: {m}" for m in cell.missing] + ([cell.note] if cell.note else [])
    return status, (cited or "-") + ("<br>" + "<br>".join(_t(w) for w in words) if words else "")


def _control_map(contents: Contents) -> str:
    if not contents.changes:
        return "<p>No production change to map in this period.</p>"
    named = "".join(
        f"<li><b>{escape(CONTROLS[c][0])}</b>: {escape(CONTROLS[c][1])}</li>"
        for c in contents.controls
    )
    rows = []
    for change in contents.changes:
        what = f"{change.time} {change.service}/{change.environment} {change.action} {_versions(change)}"
        for control in contents.controls:
            status, evidence = _cell(change.cells[control])
            rows.append((_t(what), escape(CONTROLS[control][0]), status, evidence))
    table = _table(("Change", "Control", "Status", "Records (seq, role, hash) / missing"), rows)
    return f"<ul>{named}</ul>\n{table}"


def _findings(findings: list[Finding]) -> str:
    parts = []
    for kind in KINDS:
        found = [f for f in findings if f.kind == kind]
        parts.append(f"<h3>{escape(kind.capitalize())} ({len(found)})</h3>")
        if not found:
            parts.append("<p>None.</p>")
            continue
        rows = [
            (
                _t(f.time or "-"),
                _t(f.service or "-"),
                _t(f.environment or "-"),
                _t(f.who or "-"),
                _t(f.what),
                _t(" ".join(map(str, f.seqs)) or "-"),
            )
            for f in found
        ]
        parts.append(
            _table(("When (UTC)", "Service", "Environment", "Who", "What", "Records"), rows)
        )
    return "\n".join(parts)


def to_html(contents: Contents, files: Sequence[str]) -> str:
    """The page; `files` names the pack's other files, listed for the reader."""
    log = contents.log
    period = f"{contents.since} to {contents.until}"
    verdict = (
        '<span class="ok">intact</span>'
        if contents.verify_ok
        else '<span class="bad">NOT intact</span>'
    )
    identity = _table(
        ("Origin", "Records", "Head hash", "Chain", "Checkpoint"),
        [
            (
                _t(log.origin),
                _t(log.size),
                f'<span class="hash">{_t(log.head_hash)}</span>',
                verdict,
                _t(contents.checkpoint_note),
            )
        ],
    )
    listed = "".join(f"<li><code>{escape(f)}</code></li>" for f in files)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Audit evidence pack {_t(period)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Audit evidence pack</h1>
<p>Period: {_t(period)} (since inclusive, until exclusive). Generated {_t(contents.generated)}.
Controls: {escape(", ".join(CONTROLS[c][0] for c in contents.controls))}.</p>
<h2>Audit log</h2>
{identity}
<h2>Verification</h2>
<p>What <code>cockpit audit verify</code> printed when this pack was made (verify.txt):</p>
<pre>{_t(contents.verify_transcript, 20000, multiline=True)}</pre>
<h2>Production changes ({len(contents.changes)})</h2>
{_changes(contents.changes)}
<h2>Control map</h2>
{_control_map(contents)}
<h2>Exceptions ({len(contents.findings)})</h2>
{_findings(contents.findings)}
<h2>This pack</h2>
<p>Check it with <code>sha256sum -c MANIFEST.sha256</code> after unzipping; MANIFEST.json
names the parameters and every file's SHA-256. Its files:</p>
<ul>{listed}</ul>
</body>
</html>
"""
