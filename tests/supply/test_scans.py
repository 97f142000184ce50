"""The scans gate against recorded GitHub code-scanning alerts and a CodeQL SARIF file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cockpit.evidence_model import GITHUB_CODE_SCANNING, SARIF_JSON, Evidence, EvidenceKind
from cockpit.model import Gate, GateStatus
from cockpit.supply import EvidenceError
from cockpit.supply.documents import digest
from cockpit.supply.scans import ScanPolicy, cvss, parse_alerts, same_commit, scan_gate
from tests.supply.helpers import doc, payload

SHA = "7c1f0e9d2b3a4c5d6e7f8091a2b3c4d5e6f70819"
SEARCH_SHA = "a91957a858320c0e17f3a0eca7cfacbff50ea29a"


def alerts(body: bytes, media_type: str = GITHUB_CODE_SCANNING, **more: Any) -> Evidence:
    more.setdefault("subject", SHA)
    return doc(EvidenceKind.SCAN, body, media_type=media_type, **more)


def gate(*docs: Evidence, fail_at: Any = "high", commit: str = SHA) -> Gate:
    return scan_gate(docs, ScanPolicy(fail_at), service="checkout", version="2.14.0", commit=commit)


def github_alert(number: int, **rule: Any) -> dict[str, Any]:
    """A minimal open GitHub alert on SHA; `rule` overrides its rule fields."""
    return {
        "number": number,
        "state": "open",
        "rule": {
            "id": f"rule/{number}",
            "severity": "error",
            "security_severity_level": None,
            **rule,
        },
        "most_recent_instance": {
            "ref": "refs/heads/main",
            "commit_sha": SHA,
            "location": {"path": "a.js", "start_line": 1},
        },
        "html_url": f"https://github.com/acme/checkout/security/code-scanning/{number}",
        "tool": {"name": "CodeQL"},
    }


# Parsing


def test_github_alerts_with_their_real_fields() -> None:
    parsed = {
        a.number: a for a in parse_alerts(alerts(payload("github-code-scanning-alerts.json")))
    }
    assert sorted(parsed, key=int) == ["12", "37", "41", "42"]
    sqli = parsed["42"]
    assert (sqli.rule, sqli.severity, sqli.state, sqli.commit) == (
        "js/sql-injection",
        "high",
        "open",
        SHA,
    )
    assert sqli.path == "src/db/orders.js:41"
    assert sqli.url == "https://github.com/acme/checkout/security/code-scanning/42"
    assert (sqli.tool, sqli.id) == ("CodeQL", "42")
    assert parsed["37"].severity == "critical" and not parsed["37"].open  # dismissed
    assert (
        parsed["12"].severity == "low" and parsed["12"].state == "fixed"
    )  # note, no security level


def test_sarif_results_with_rule_severity_levels_and_suppressions() -> None:
    parsed = parse_alerts(alerts(payload("codeql.sarif"), SARIF_JSON, subject=SEARCH_SHA))
    by_rule = {a.rule: a for a in parsed}
    sqli = by_rule["py/sql-injection"]
    assert (sqli.severity, sqli.path, sqli.commit, sqli.number) == (
        "high",
        "search/api.py:57",
        SEARCH_SHA,
        "5f1d6a0e-0b8e-4f55-9e1a-2d1c3b4a5e6f",
    )
    assert by_rule["py/weak-sensitive-data-hashing"].severity == "high"  # 7.5 from its rule
    assert by_rule["py/unused-import"].severity == "low"  # note, no security severity
    logged = by_rule["py/clear-text-logging-sensitive-data"]
    assert (logged.severity, logged.state) == ("critical", "dismissed")


def test_codeql_rules_in_a_query_pack_extension_give_the_severity() -> None:
    parsed = parse_alerts(alerts(payload("codeql-extensions.sarif"), SARIF_JSON))
    by_rule = {a.rule: a for a in parsed}
    injection = by_rule["js/code-injection"]
    assert (injection.severity, injection.path, injection.commit) == (
        "critical",
        "src/templates/render.js:23",
        SHA,
    )
    assert by_rule["js/unused-local-variable"].severity == "low"  # the rule's default level
    result = gate(alerts(payload("codeql-extensions.sarif"), SARIF_JSON))
    assert result.status is GateStatus.FAIL
    assert "js/code-injection (critical, src/templates/render.js:23)" in result.evidence


@pytest.mark.parametrize(
    ("reference", "why"),
    [
        ({"ruleIndex": 5}, "names rule 5"),
        ({"rule": {"id": "x", "index": 0, "toolComponent": {"index": 3}}}, "tool component"),
        ({"rule": {"id": "x", "index": 9, "toolComponent": {"index": 0}}}, "names rule 9"),
    ],
)
def test_a_result_pointing_at_a_rule_the_log_lacks_is_unusable(
    reference: dict[str, Any], why: str
) -> None:
    body = json.dumps(
        {
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {"name": "t", "rules": [{"id": "a"}]},
                        "extensions": [{"name": "pack", "rules": []}],
                    },
                    "results": [{"ruleId": "x", **reference}],
                }
            ],
        }
    ).encode()
    with pytest.raises(EvidenceError, match=why):
        parse_alerts(alerts(body, SARIF_JSON))


def test_sarif_result_severity_beats_the_rule_and_level_defaults_to_warning() -> None:
    body = json.dumps(
        {
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "t",
                            "rules": [{"id": "r", "properties": {"security-severity": "2.0"}}],
                        }
                    },
                    "results": [
                        {"ruleId": "r", "properties": {"security-severity": 9.8}},
                        {"ruleId": "plain"},
                        {"ruleId": "passed", "kind": "pass", "level": "error"},
                    ],
                }
            ],
        }
    ).encode()
    first, second = parse_alerts(alerts(body, SARIF_JSON))
    assert (first.severity, first.number) == ("critical", "0.0")
    assert (second.severity, second.number) == ("medium", "0.1")


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (10, "critical"),
        (9.0, "critical"),
        ("8.9", "high"),
        (7, "high"),
        (6.9, "medium"),
        (4, "medium"),
        (3.9, "low"),
        (0.1, "low"),
        (0, "none"),
    ],
)
def test_cvss_scores_map_as_github_maps_them(score: object, severity: str) -> None:
    assert cvss(score) == severity


@pytest.mark.parametrize("score", ["high", None, [], "NaN", "inf", -1, 10.5, "1e999"])
def test_a_security_severity_that_is_not_a_cvss_score_is_unusable(score: object) -> None:
    with pytest.raises(EvidenceError, match="security-severity"):
        cvss(score)


@pytest.mark.parametrize(
    ("body", "media_type", "why"),
    [
        (b'{"message": "no analysis found"}', GITHUB_CODE_SCANNING, "not a list of alerts"),
        (b"[1]", GITHUB_CODE_SCANNING, "not an object with a rule"),
        (
            b'[{"number": 1, "rule": {"severity": "catastrophic"}}]',
            GITHUB_CODE_SCANNING,
            "not none, note, warning",
        ),
        (
            b'[{"number": 1, "rule": {"security_severity_level": "severe"}}]',
            GITHUB_CODE_SCANNING,
            "unknown",
        ),
        (b'[{"number": 1, "rule": {"severity": "error"}', GITHUB_CODE_SCANNING, "not valid JSON"),
        (b'{"version": "2.0.0", "runs": []}', SARIF_JSON, "not a SARIF 2.1.0"),
        (b'{"version": "2.1.0", "runs": {}}', SARIF_JSON, "not a list"),
        (
            b'{"version": "2.1.0", "runs": [{"results": [{"level": "fatal"}]}]}',
            SARIF_JSON,
            "not none, note",
        ),
        (b"[]", "application/json", "not a scan result"),
    ],
)
def test_unusable_documents_raise_evidence_error(body: bytes, media_type: str, why: str) -> None:
    with pytest.raises(EvidenceError, match=why):
        parse_alerts(alerts(body, media_type))


def test_an_alert_fixed_elsewhere_but_open_where_last_seen_is_open() -> None:
    fixed_on_main = github_alert(7, security_severity_level="critical")
    fixed_on_main["state"] = "fixed"
    fixed_on_main["most_recent_instance"]["state"] = "open"
    dismissed = github_alert(8, security_severity_level="critical")
    dismissed["state"] = "dismissed"
    dismissed["most_recent_instance"]["state"] = "open"
    first, second = parse_alerts(alerts(json.dumps([fixed_on_main, dismissed]).encode()))
    assert (first.state, second.state) == ("open", "dismissed")


def test_hostile_text_is_clean_and_wrong_types_are_nothing() -> None:
    raw = github_alert(1, id="x\x1b[2J[red]y\u202e")
    raw["most_recent_instance"]["location"] = {"path": "p\x9b.js", "start_line": 10**30}
    raw["html_url"] = ["not", "a", "url"]
    (alert,) = parse_alerts(alerts(json.dumps([raw]).encode()))
    assert alert.rule.isprintable() and "[red]" in alert.rule and "^[" in alert.rule
    assert alert.path == "p\\x9b.js"  # an absurd line number is left out
    assert alert.url == ""


def test_commits_compare_abbreviated_and_case_blind_but_not_too_short() -> None:
    assert same_commit(SHA, SHA[:7].upper())
    assert not same_commit(SHA, SHA[:6])
    assert not same_commit(SHA, "")
    assert not same_commit(SHA, SEARCH_SHA)


# The gate


def test_open_alerts_at_or_above_high_fail_naming_each() -> None:
    body = payload("github-code-scanning-alerts.json")
    result = gate(alerts(body))
    assert result.status is GateStatus.FAIL
    assert result.name == "scans"
    assert (
        result.evidence
        == "1 open alert at or above high on 7c1f0e9: js/sql-injection (high, src/db/orders.js:41)"
    )
    facts = dict(result.facts)
    assert facts["scan_digest"] == digest(body)
    assert (facts["alerts_blocking"], facts["alerts_open_below"], facts["alerts_closed"]) == (
        "1",
        "1",
        "2",
    )
    assert (facts["alert_ids"], facts["commit"], facts["fail_at"]) == ("42", SHA, "high")


def test_the_threshold_decides_what_blocks() -> None:
    body = payload("github-code-scanning-alerts.json")
    assert dict(gate(alerts(body), fail_at="medium").facts)["alerts_blocking"] == "2"
    critical = gate(alerts(body), fail_at="critical")  # the critical one is dismissed
    assert critical.status is GateStatus.PASS
    assert (
        critical.evidence == "no open alert at or above critical on 7c1f0e9 (2 open below critical)"
    )


def test_no_open_alert_passes() -> None:
    result = gate(alerts(b"[]"))
    assert (result.status, result.evidence) == (
        GateStatus.PASS,
        "no open alert at or above high on 7c1f0e9",
    )


def test_a_policy_threshold_outside_the_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="fail_at"):
        ScanPolicy("none")  # type: ignore[arg-type]


def test_the_worst_alerts_are_named_first_up_to_a_bound() -> None:
    many = [github_alert(n, security_severity_level="high") for n in range(1, 9)]
    many.append(github_alert(99, security_severity_level="critical"))
    result = gate(alerts(json.dumps(many).encode()))
    assert result.evidence.startswith(
        "9 open alerts at or above high on 7c1f0e9: rule/99 (critical, a.js:1)"
    )
    assert result.evidence.endswith("+4 more")


def test_a_sarif_file_for_the_commit_is_judged() -> None:
    result = gate(
        alerts(payload("codeql.sarif"), SARIF_JSON, subject=SEARCH_SHA), commit=SEARCH_SHA
    )
    assert result.status is GateStatus.FAIL
    assert "py/sql-injection (high, search/api.py:57)" in result.evidence
    assert "clear-text-logging" not in result.evidence  # suppressed


def test_no_document_for_the_commit_is_unknown() -> None:
    other = alerts(b"[]", subject=SEARCH_SHA)
    result = gate(other)
    assert (result.status, result.evidence) == (
        GateStatus.UNKNOWN,
        "no code-scanning result for 7c1f0e9",
    )
    assert gate().status is GateStatus.UNKNOWN
    assert gate(alerts(b"[]"), commit="").evidence == "no commit known for checkout 2.14.0"


def test_an_alert_seen_on_the_commit_in_another_commits_document_still_fails() -> None:
    on_main = alerts(payload("github-code-scanning-alerts.json"), subject="f" * 40)
    result = gate(on_main)  # the alerts' most recent instance is SHA
    assert result.status is GateStatus.FAIL
    assert "scan_digest" not in dict(result.facts)  # that document does not cover the commit


def test_a_problem_or_an_unusable_document_for_the_commit_is_unknown() -> None:
    problem = gate(alerts(b"", problem="403 code scanning is not enabled"))
    assert problem.status is GateStatus.UNKNOWN
    assert "403 code scanning is not enabled" in problem.evidence
    broken = gate(alerts(b"[{"))
    assert broken.status is GateStatus.UNKNOWN and "not valid JSON" in broken.evidence
    # fail wins: a good document for the commit that shows a blocking alert
    both = gate(alerts(b"[{"), alerts(payload("github-code-scanning-alerts.json"), minutes=1))
    assert both.status is GateStatus.FAIL


def test_documents_of_another_service_are_not_used() -> None:
    theirs = alerts(payload("github-code-scanning-alerts.json"), service="search")
    assert gate(theirs).status is GateStatus.UNKNOWN
