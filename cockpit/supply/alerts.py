"""Code-scanning alerts as the documents give them: GitHub's alerts API and SARIF 2.1.0.

Each finding becomes a `ScanAlert` with one severity on one scale. The security severity
wins where the tool gives one (GitHub's `security_severity_level`; SARIF's CVSS
`security-severity` on the result or its rule: >=9 critical, >=7 high, >=4 medium, >0
low), else the plain level maps (error high, warning medium, note low). A severity the
scale does not know makes the document unusable rather than quietly low.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cockpit.supply import EvidenceError
from cockpit.supply.documents import field, items, text

MAX_ALERTS = 100_000
SEVERITIES = ("none", "low", "medium", "high", "critical")  # ascending
_LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "none"}
_CLOSED = ("dismissed", "fixed", "closed")


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


def level(value: object, where: str) -> str:
    """A SARIF/GitHub level (none, note, warning, error) on the severity scale."""
    if not isinstance(value, str) or value not in _LEVELS:
        raise EvidenceError(f"{where} severity {text(value)!r} is not none, note, warning or error")
    return _LEVELS[value]


def _bounded(found: list[ScanAlert]) -> None:
    if len(found) > MAX_ALERTS:
        raise EvidenceError(f"more than {MAX_ALERTS:,} alerts")


def github_alerts(doc: Any) -> tuple[ScanAlert, ...]:
    """The alerts of GET /repos/{owner}/{repo}/code-scanning/alerts (a bare JSON array)."""
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
            severity = level(rule.get("severity"), f"alert {number} rule")
        elif security in SEVERITIES[1:]:
            severity = security
        else:
            raise EvidenceError(
                f"alert {number} security_severity_level {text(security)!r} is unknown"
            )
        instance = _obj(raw.get("most_recent_instance"))
        location = _obj(instance.get("location"))
        found.append(
            ScanAlert(
                number=number,
                rule=field(rule, "id") or field(rule, "name"),
                severity=severity,
                state=_github_state(raw, instance),
                commit=field(instance, "commit_sha"),
                path=_path(field(location, "path"), location),
                url=field(raw, "html_url"),
                tool=field(raw.get("tool"), "name"),
            )
        )
        _bounded(found)
    return tuple(found)


def _github_state(alert: dict[str, Any], instance: dict[str, Any]) -> str:
    """The alert's state where it was last seen: a dismissal is a person's call on the
    alert, but "fixed" on the default branch does not close it where the ref still has it."""
    state = field(alert, "state") or "open"  # null: not known to be closed
    if state != "dismissed" and field(instance, "state") == "open":
        return "open"
    return state


def _path(path: str, location: object) -> str:
    line = location.get("start_line") if isinstance(location, dict) else None
    if line is None and isinstance(location, dict):
        region = location.get("region")
        line = region.get("startLine") if isinstance(region, dict) else None
    ok = isinstance(line, int) and not isinstance(line, bool) and 0 < line < 10**9
    return f"{path}:{line}" if path and ok else path


def sarif_alerts(doc: Any) -> tuple[ScanAlert, ...]:
    """The findings of a SARIF 2.1.0 log (results of kind "fail"), every run's."""
    if not isinstance(doc, dict) or doc.get("version") != "2.1.0":
        raise EvidenceError("not a SARIF 2.1.0 log (version is not '2.1.0')")
    found: list[ScanAlert] = []
    for r, run in enumerate(items(doc, "runs", "the SARIF log")):
        if not isinstance(run, dict):
            raise EvidenceError(f"SARIF run {r} is not an object")
        tool = _obj(run.get("tool"))
        driver = _obj(tool.get("driver"))
        extensions = items(tool, "extensions", "the SARIF tool")
        components = [driver, *(_obj(e) for e in extensions)]
        provenance = items(run, "versionControlProvenance", "the SARIF run")
        commit = field(provenance[0], "revisionId") if provenance else ""
        for n, result in enumerate(items(run, "results", f"SARIF run {r}")):
            where = f"SARIF result {r}.{n}"
            if not isinstance(result, dict):
                raise EvidenceError(f"{where} is not an object")
            if result.get("kind", "fail") != "fail":
                continue  # pass, notApplicable, informational: not findings
            rule = _rule(result, components, where)
            ref = _obj(result.get("rule"))
            found.append(
                ScanAlert(
                    number=field(result, "guid") or f"{r}.{n}",
                    rule=field(result, "ruleId") or field(ref, "id") or field(rule, "id"),
                    severity=_sarif_severity(result, rule, where),
                    state="dismissed" if _suppressed(result) else "open",
                    commit=commit,
                    path=_sarif_path(result),
                    url=field(result, "hostedViewerUri"),
                    tool=field(driver, "name"),
                )
            )
            _bounded(found)
    return tuple(found)


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _index(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _rule(result: dict[str, Any], components: list[dict[str, Any]], where: str) -> dict[str, Any]:
    """The rule a result names: by index in its tool component (the driver, or the
    extension `rule.toolComponent.index` names, as CodeQL's query packs are), else by id.

    A result that points at a rule the log does not hold is refused: its severity lives
    there, and guessing it would let a critical finding through as a warning.
    """
    ref = _obj(result.get("rule"))
    component = components[0]
    owner = ref.get("toolComponent")
    if isinstance(owner, dict):
        at = _index(owner.get("index"))
        if at is None or at >= len(components) - 1:
            raise EvidenceError(f"{where} names a tool component the log does not hold")
        component = components[at + 1]
    rules = items(component, "rules", "a SARIF tool component")
    index = _index(ref.get("index")) if "index" in ref else _index(result.get("ruleIndex"))
    if index is not None:
        if index >= len(rules) or not isinstance(rules[index], dict):
            raise EvidenceError(f"{where} names rule {index}, which the log does not hold")
        return rules[index]
    wanted = result.get("ruleId") or ref.get("id")
    for candidate in (component, *components):
        for rule in items(candidate, "rules", "a SARIF tool component"):
            if isinstance(rule, dict) and wanted is not None and rule.get("id") == wanted:
                return rule
    return {}


def _sarif_severity(result: dict[str, Any], rule: dict[str, Any], where: str) -> str:
    for holder in (result, rule):
        props = holder.get("properties")
        if isinstance(props, dict) and props.get("security-severity") is not None:
            return cvss(props["security-severity"])
    plain = result.get("level")
    if plain is None:
        plain = _obj(rule.get("defaultConfiguration")).get("level")
    return level("warning" if plain is None else plain, where)  # SARIF's default level


def _suppressed(result: dict[str, Any]) -> bool:
    # A suppression without a status is accepted (SARIF 2.1.0 §3.35.3).
    return any(
        isinstance(s, dict) and s.get("status", "accepted") == "accepted"
        for s in items(result, "suppressions", "a SARIF result")
    )


def _sarif_path(result: dict[str, Any]) -> str:
    locations = items(result, "locations", "a SARIF result")
    physical = _obj(_obj(locations[0]).get("physicalLocation")) if locations else {}
    return _path(field(physical.get("artifactLocation"), "uri"), physical)
