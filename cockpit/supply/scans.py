"""The scans gate: open code-scanning alerts on the promoted commit at or above a severity.

Alerts come from GitHub's code-scanning API or a SARIF 2.1.0 file (`cockpit.supply.alerts`
reads both). Only a document about the promoted commit can clear it; an alert seen on
that commit in any document fails it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cockpit.evidence_model import GITHUB_CODE_SCANNING, SARIF_JSON, Evidence, EvidenceKind
from cockpit.model import Gate, GateStatus
from cockpit.supply import EvidenceError
from cockpit.supply.alerts import SEVERITIES, ScanAlert, cvss, github_alerts, rank, sarif_alerts
from cockpit.supply.documents import bounded, digest, load_json, plural, short, text

__all__ = [
    "SEVERITIES",
    "ScanAlert",
    "ScanPolicy",
    "cvss",
    "parse_alerts",
    "rank",
    "same_commit",
    "scan_gate",
]

GATE = "scans"

Threshold = Literal["low", "medium", "high", "critical"]


@dataclass(frozen=True, slots=True)
class ScanPolicy:
    """Open alerts at or above `fail_at` on the promoted commit fail the gate."""

    fail_at: Threshold = "high"

    def __post_init__(self) -> None:
        if self.fail_at not in SEVERITIES[1:]:
            raise ValueError(
                f"fail_at must be one of low, medium, high, critical, not {self.fail_at!r}"
            )


def parse_alerts(evidence: Evidence) -> tuple[ScanAlert, ...]:
    """The alerts in a code-scanning document; EvidenceError when it cannot be used."""
    if evidence.problem:
        raise EvidenceError(f"scan fetch failed: {text(evidence.problem)}")
    kind = evidence.media_type.split(";", 1)[0].strip().lower()
    if kind == GITHUB_CODE_SCANNING:
        return github_alerts(load_json(evidence.body, "the code-scanning alerts"))
    if kind == SARIF_JSON:
        return sarif_alerts(load_json(evidence.body, "the SARIF file"))
    raise EvidenceError(f"media type {text(evidence.media_type)!r} is not a scan result")


def same_commit(a: str, b: str) -> bool:
    """Two commit ids name the same commit (either may be abbreviated, to 7 or more)."""
    a, b = a.strip().lower(), b.strip().lower()
    return min(len(a), len(b)) >= 7 and (a.startswith(b) or b.startswith(a))


def _named(alert: ScanAlert) -> str:
    where = f", {text(alert.path, 80)}" if alert.path else ""
    return f"{text(alert.rule, 60) or '(no rule)'} ({alert.severity}{where})"


def scan_gate(
    docs: Sequence[Evidence], policy: ScanPolicy, *, service: str, version: str, commit: str
) -> Gate:
    """The scans gate for `commit` (the one `version` of `service` was built from)."""
    mine = [d for d in docs if d.kind == EvidenceKind.SCAN and d.service == service]
    about = [d for d in mine if same_commit(d.subject, commit)]
    source = ", ".join(dict.fromkeys(text(d.source) for d in (about or mine) if d.source))
    at = policy.fail_at

    def gate(status: GateStatus, evidence: str, facts: Sequence[tuple[str, str]] = ()) -> Gate:
        return Gate(GATE, status, evidence, service, "", source, version, tuple(facts))

    if not commit.strip():
        return gate(GateStatus.UNKNOWN, f"no commit known for {text(service)} {text(version)}")
    problems: list[str] = []
    applying: list[ScanAlert] = []
    digests: list[str] = []
    for doc in mine:
        covers = same_commit(doc.subject, commit)
        try:
            alerts = parse_alerts(doc)
        except EvidenceError as exc:
            if covers:
                problems.append(text(str(exc), 200))
            continue
        if covers:
            digests.append(digest(doc.body))
            applying.extend(alerts)
        else:  # another commit's document: its alerts seen on this commit still count
            applying.extend(a for a in alerts if same_commit(a.commit, commit))
    unique = list({(a.tool, a.number, a.rule, a.path): a for a in applying}.values())
    open_ = [a for a in unique if a.open]
    blocking = sorted(
        (a for a in open_ if rank(a.severity) >= rank(at)), key=lambda a: -rank(a.severity)
    )
    facts = [
        ("scan_digest", ",".join(digests)),
        ("commit", text(commit)),
        ("fail_at", at),
        ("alerts_blocking", str(len(blocking))),
        ("alerts_open_below", str(len(open_) - len(blocking))),
        ("alerts_closed", str(len(unique) - len(open_))),
        ("alert_ids", bounded([text(a.number, 40) for a in blocking], 10)),
    ]
    facts = [(k, v) for k, v in facts if v]
    where = short(commit)
    if blocking:
        line = f"{plural(len(blocking), 'open alert')} at or above {at} on {where}: "
        return gate(GateStatus.FAIL, line + bounded([_named(a) for a in blocking]), facts)
    if not about:
        return gate(GateStatus.UNKNOWN, f"no code-scanning result for {where}", facts)
    if problems:
        return gate(GateStatus.UNKNOWN, f"scan result unusable: {bounded(problems, 2)}", facts)
    below = len(open_)
    tail = f" ({below:,} open below {at})" if below else ""
    return gate(GateStatus.PASS, f"no open alert at or above {at} on {where}{tail}", facts)
