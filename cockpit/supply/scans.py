"""The scans gate: open code-scanning alerts on the promoted commit at or above a severity.

Alerts come from GitHub's code-scanning API (a bare JSON array) or a SARIF 2.1.0 file.
Severity is the security severity where the tool gives one (GitHub's
`security_severity_level`, SARIF's CVSS `security-severity`: >=9 critical, >=7 high, >=4
medium, >0 low), else the plain level (error high, warning medium, note low). Only a
document about the promoted commit can clear it; an alert on that commit from any
document fails it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cockpit.evidence_model import GITHUB_CODE_SCANNING, SARIF_JSON, Evidence, EvidenceKind
from cockpit.model import Gate, GateStatus
from cockpit.supply import EvidenceError
from cockpit.supply.documents import bounded, digest, field, items, load_json, plural, short, text

GATE = "scans"
MAX_ALERTS = 100_000
SEVERITIES = ("none", "low", "medium", "high", "critical")  # ascending
_LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "none"}
_CLOSED = ("dismissed", "fixed", "closed")

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


@dataclass(frozen=True, slots=True)
class ScanAlert:
    """One code-scanning finding (clean text)."""

    number: str  # GitHub's alert number; SARIF's result guid, else "run.result" index
    rule: str
    severity: str  # none, low, medium, high, critical
    state: str  # open, dismissed, fixed
    commit: str  # where it was seen, "" when the document does not say
    path: str  # "file" or "file:line"
    url: str = ""
    tool: str = ""

    @property
    def id(self) -> str:
        return self.number

    @property
    def open(self) -> bool:
        return self.state not in _CLOSED


def rank(severity: str) -> int:
    """Where `severity` sits in SEVERITIES (none lowest)."""
    return SEVERITIES.index(severity)


def cvss(value: object) -> str:
    """A CVSS score (number or numeric string) as a severity; EvidenceError if it is not one."""
    try:
        score = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise EvidenceError(f"security-severity {text(value)!r} is not a number") from None
    if not math.isfinite(score) or not 0 <= score <= 10:
        raise EvidenceError(f"security-severity {text(value)!r} is not a CVSS score (0-10)")
    if score >= 9:
        return "critical"
    if score >= 7:
        return "high"
    if score >= 4:
        return "medium"
    return "low" if score > 0 else "none"


def _level(value: object, where: str) -> str:
    if not isinstance(value, str) or value not in _LEVELS:
        raise EvidenceError(f"{where} severity {text(value)!r} is not none, note, warning or error")
    return _LEVELS[value]


def parse_alerts(evidence: Evidence) -> tuple[ScanAlert, ...]:
    """The alerts in a code-scanning document; EvidenceError when it cannot be used."""
    if evidence.problem:
        raise EvidenceError(f"scan fetch failed: {text(evidence.problem)}")
    kind = evidence.media_type.split(";", 1)[0].strip().lower()
    if kind == GITHUB_CODE_SCANNING:
        return _github(load_json(evidence.body, "the code-scanning alerts"))
    if kind == SARIF_JSON:
        return _sarif(load_json(evidence.body, "the SARIF file"))
    raise EvidenceError(f"media type {text(evidence.media_type)!r} is not a scan result")


def _bounded(found: list[ScanAlert]) -> None:
    if len(found) > MAX_ALERTS:
        raise EvidenceError(f"more than {MAX_ALERTS:,} alerts")


def _github(doc: Any) -> tuple[ScanAlert, ...]:
    if not isinstance(doc, list):
        raise EvidenceError(
            f"the code-scanning answer is a JSON {type(doc).__name__}, not a list of alerts"
        )
    found: list[ScanAlert] = []
    for raw in doc:
        if not isinstance(raw, dict) or not isinstance(raw.get("rule"), dict):
            raise EvidenceError("a code-scanning alert is not an object with a rule")
        rule = raw["rule"]
        number = field(raw, "number")
        security = rule.get("security_severity_level")
        if security is None:
            severity = _level(rule.get("severity"), f"alert {number} rule")
        elif security in SEVERITIES[1:]:
            severity = security
        else:
            raise EvidenceError(
                f"alert {number} security_severity_level {text(security)!r} is unknown"
            )
        instance = raw.get("most_recent_instance")
        instance = instance if isinstance(instance, dict) else {}
        found.append(
            ScanAlert(
                number=number,
                rule=field(rule, "id") or field(rule, "name"),
                severity=severity,
                state=field(raw, "state") or "open",  # null: not known to be closed
                commit=field(instance, "commit_sha"),
                path=_path(
                    field(instance.get("location"), "path"), (instance.get("location") or {})
                ),
                url=field(raw, "html_url"),
                tool=field(raw.get("tool"), "name"),
            )
        )
        _bounded(found)
    return tuple(found)


def _path(path: str, location: object) -> str:
    line = location.get("start_line") if isinstance(location, dict) else None
    if line is None and isinstance(location, dict):
        region = location.get("region")
        line = region.get("startLine") if isinstance(region, dict) else None
    ok = isinstance(line, int) and not isinstance(line, bool) and 0 < line < 10**9
    return f"{path}:{line}" if path and ok else path


def _sarif(doc: Any) -> tuple[ScanAlert, ...]:
    if not isinstance(doc, dict) or doc.get("version") != "2.1.0":
        raise EvidenceError("not a SARIF 2.1.0 log (version is not '2.1.0')")
    found: list[ScanAlert] = []
    for r, run in enumerate(items(doc, "runs", "the SARIF log")):
        if not isinstance(run, dict):
            raise EvidenceError(f"SARIF run {r} is not an object")
        driver = run.get("tool", {}).get("driver", {}) if isinstance(run.get("tool"), dict) else {}
        rules = items(driver, "rules", "the SARIF driver")
        by_id = {rule.get("id"): rule for rule in rules if isinstance(rule, dict)}
        provenance = items(run, "versionControlProvenance", "the SARIF run")
        commit = field(provenance[0], "revisionId") if provenance else ""
        for n, result in enumerate(items(run, "results", f"SARIF run {r}")):
            if not isinstance(result, dict):
                raise EvidenceError(f"SARIF result {r}.{n} is not an object")
            if result.get("kind", "fail") != "fail":
                continue  # pass, notApplicable, informational: not findings
            rule = _rule(result, rules, by_id)
            found.append(
                ScanAlert(
                    number=field(result, "guid") or f"{r}.{n}",
                    rule=field(result, "ruleId") or field(rule, "id"),
                    severity=_sarif_severity(result, rule, f"SARIF result {r}.{n}"),
                    state="dismissed" if _suppressed(result) else "open",
                    commit=commit,
                    path=_sarif_path(result),
                    url=field(result, "hostedViewerUri"),
                    tool=field(driver, "name"),
                )
            )
            _bounded(found)
    return tuple(found)


def _rule(result: dict[str, Any], rules: list[Any], by_id: dict[Any, Any]) -> dict[str, Any]:
    index = result.get("ruleIndex")
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(rules):
        rule = rules[index]
    else:
        rule = by_id.get(result.get("ruleId"))
    return rule if isinstance(rule, dict) else {}


def _sarif_severity(result: dict[str, Any], rule: dict[str, Any], where: str) -> str:
    for holder in (result, rule):
        props = holder.get("properties")
        if isinstance(props, dict) and props.get("security-severity") is not None:
            return cvss(props["security-severity"])
    level = result.get("level")
    if level is None:
        config = rule.get("defaultConfiguration")
        level = config.get("level") if isinstance(config, dict) else None
    return _level("warning" if level is None else level, where)  # SARIF's default level


def _suppressed(result: dict[str, Any]) -> bool:
    # A suppression without a status is accepted (SARIF 2.1.0 §3.35.3).
    return any(
        isinstance(s, dict) and s.get("status", "accepted") == "accepted"
        for s in items(result, "suppressions", "a SARIF result")
    )


def _sarif_path(result: dict[str, Any]) -> str:
    locations = items(result, "locations", "a SARIF result")
    physical = (
        locations[0].get("physicalLocation")
        if locations and isinstance(locations[0], dict)
        else None
    )
    if not isinstance(physical, dict):
        return ""
    return _path(field(physical.get("artifactLocation"), "uri"), physical)


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
