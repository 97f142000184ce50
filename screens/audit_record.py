"""One audit record in full: who, what, why, on which evidence, with what outcome.

Every value in a record came from somewhere else (an operator's reason, a connector's
evidence, a server's error): it is cleaned and shown as plain text, never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.sanitize import clean
from screens.scroll import ScrollBox

# Evidence keys drawn in their own shape; any other key is listed as it was recorded.
SHAPED = ("gates", "verdict", "alert")


def _field(out: Text, label: str, value: object, style: str = "", limit: int = 300) -> None:
    out.append(f"\n{label:<10}", style="dim")
    out.append(clean(value, limit=limit) or "-", style=style)


def _compact(value: object) -> str:
    """A recorded value on one line: `name=HighErrorRate severity=critical`."""
    if isinstance(value, Mapping):
        return " ".join(f"{k}={_compact(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_compact(v) for v in value)
    return str(value)


def signature_state(actor: Any) -> str:
    """Signed (and by whom, which key), a signature nobody verified, or unsigned."""
    if actor.principal:
        key = f" key {actor.key_fingerprint}" if actor.key_fingerprint else ""
        kind = f" ({actor.key_type})" if actor.key_type else ""
        return f"signed by {actor.principal}{key}{kind}"
    if actor.signature:
        return "signature present, not verified"
    return "unsigned"


def _evidence(out: Text, evidence: Mapping[str, Any]) -> None:
    out.append("\n\nEvidence", style="bold")
    if not evidence:
        out.append("\n  none recorded", style="dim")
    for gate in evidence.get("gates") or ():
        status = clean(gate.get("status", "?"), limit=10)
        out.append(f"\n  {status:<8}", style="red bold" if status == "fail" else "")
        out.append(clean(f"{gate.get('name')}: {gate.get('evidence')}", limit=200))
    verdict = evidence.get("verdict")
    if isinstance(verdict, Mapping):
        out.append("\n  verdict ")
        out.append(clean(verdict.get("decision", "?"), limit=20), style="bold")
        out.append(clean(f" score {verdict.get('score', '?')}", limit=40))
        for metric in verdict.get("metrics") or ():
            out.append("\n    ")
            out.append(clean(f"{metric.get('name')}: {metric.get('classification')}", limit=80))
            out.append(" ")
            out.append(clean(metric.get("reason", ""), limit=160), style="dim")
    alert = evidence.get("alert")
    if alert is not None:
        out.append("\n  alert ")
        out.append(clean(_compact(alert), limit=300))
    for key, value in evidence.items():
        if key not in SHAPED and value not in (None, "", [], {}):
            out.append(f"\n  {clean(key, limit=30)} ", style="dim")
            out.append(clean(_compact(value), limit=300))


def record_text(record: Any) -> Text:
    """The whole record as plain text: cleaned, no markup parsed from any of its values."""
    out = Text()
    out.append(f"Audit record #{record.seq}", style="bold")
    out.append(f"  {record.ts.strftime('%Y-%m-%d %H:%M:%S %Z')}", style="dim")
    actor = record.actor
    _field(out, "actor", f"{actor.user}@{actor.host}", "bold")
    _field(out, "from", f"SSH {actor.ssh_client}" if actor.ssh_client else "local terminal")
    _field(out, "identity", signature_state(actor))
    if actor.agent_forwarded_suspected:
        out.append("  (SSH agent forwarding suspected)", style="yellow")
    _field(out, "event", record.event_type.value, "bold")
    _field(out, "action", record.action)
    target = record.target
    if target is not None:
        where = (
            f"{target.service} in {target.environment}" if target.environment else target.service
        )
        _field(out, "target", where, "bold")
        if target.from_version or target.to_version:
            _field(out, "versions", f"{target.from_version or '?'} → {target.to_version or '?'}")
        if target.digest:
            _field(out, "digest", target.digest)
        if target.source:
            _field(out, "via", f"{target.source} {target.remote_id}".strip())
    _field(out, "reason", record.reason, limit=2000)
    _field(out, "ticket", record.ticket)
    outcome = record.outcome + (" · BREAK-GLASS" if record.break_glass else "")
    _field(out, "outcome", outcome, "bold red" if record.break_glass else "bold")
    decision = record.policy.get("decision") if record.policy else None
    if decision:
        _field(out, "policy", decision)
        for reason in record.policy.get("reasons") or ():
            out.append("\n  • ")
            out.append(clean(reason, limit=300))
    _evidence(out, record.evidence or {})
    if record.extra:
        out.append("\n\nDetails", style="bold")
        for key, value in record.extra.items():
            out.append(f"\n  {clean(key, limit=30)} ", style="dim")
            out.append(clean(_compact(value), limit=300))
    out.append("\n\nChain", style="bold")
    _field(out, "request", record.request_id)
    _field(out, "hash", record.hash)
    _field(out, "previous", record.prev_hash)
    return out


class AuditRecordScreen(ModalScreen[None]):
    """The record under the audit view's cursor, in full; Esc, q or Enter closes it."""

    DEFAULT_CSS = """
    AuditRecordScreen { align: center middle; }
    AuditRecordScreen > ScrollBox {
        width: 100; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="audit_record.close")]

    def __init__(self, record: Any) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        with ScrollBox():
            yield Static(record_text(self.record), id="audit-record")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
