"""Any document, however malformed, is parsed or refused with EvidenceError: never a crash.

Hypothesis builds JSON values of any shape and XML fragments around the places the
parsers read, and every gate built on them keeps to pass, fail or unknown with one clean
line of evidence.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.evidence_model import (
    CYCLONEDX_JSON,
    GITHUB_CODE_SCANNING,
    GITLAB_TEST_REPORT,
    JENKINS_TEST_REPORT,
    JUNIT_XML,
    SARIF_JSON,
    SPDX_JSON,
    EvidenceKind,
)
from cockpit.model import GateStatus
from cockpit.sanitize import clean
from cockpit.supply import EvidenceError
from cockpit.supply.flaky import TestsPolicy, flaky_tests
from cockpit.supply.flaky import tests_evidence_gate as evidence_gate
from cockpit.supply.licences import LicencePolicy, licence_gate
from cockpit.supply.sbom import parse_sbom
from cockpit.supply.scans import ScanPolicy, parse_alerts, scan_gate
from cockpit.supply.tests_report import parse_tests
from tests.supply.helpers import doc

SHA = "7c1f0e9d2b3a4c5d6e7f8091a2b3c4d5e6f70819"
# Per test; ~2 s each here. A longer hunt: COCKPIT_FUZZ_EXAMPLES=5000.
EXAMPLES = int(os.environ.get("COCKPIT_FUZZ_EXAMPLES", "80"))
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    [
        "MIT",
        "GPL-3.0-only",
        "MIT OR (",
        "[red]x[/red]",
        "\x1b[2J",
        "NOASSERTION",
        "error",
        "open",
        "high",
        "2.1.0",
        "1.5",
        "CycloneDX",
        "SPDX-2.3",
        "failed",
        "REGRESSION",
        "9.8",
        "NaN",
    ]
)
SCALAR = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | TEXT
KEYS = (
    st.sampled_from(
        [
            "bomFormat",
            "specVersion",
            "components",
            "licenses",
            "license",
            "id",
            "name",
            "expression",
            "version",
            "purl",
            "spdxVersion",
            "packages",
            "licenseConcluded",
            "licenseDeclared",
            "externalRefs",
            "referenceType",
            "referenceLocator",
            "test_suites",
            "test_cases",
            "status",
            "classname",
            "suites",
            "cases",
            "className",
            "childReports",
            "result",
            "errorDetails",
            "number",
            "state",
            "rule",
            "severity",
            "security_severity_level",
            "most_recent_instance",
            "commit_sha",
            "location",
            "path",
            "start_line",
            "runs",
            "results",
            "ruleId",
            "ruleIndex",
            "level",
            "properties",
            "security-severity",
            "tool",
            "driver",
            "rules",
            "extensions",
            "toolComponent",
            "index",
            "suppressions",
            "locations",
            "physicalLocation",
        ]
    )
    | TEXT
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=40,
)


def inert(line: str) -> bool:
    """Nothing left for the terminal to act on: cleaning it again changes nothing."""
    return clean(line) == line and "\n" not in line


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def listed(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a short list of `inner`, sometimes anything at all."""
    return st.lists(inner, max_size=3) | JSON


# Documents shaped like the real thing at the top, arbitrary below: past the first checks.
CYCLONEDX = st.fixed_dictionaries(
    {
        "bomFormat": st.just("CycloneDX"),
        "specVersion": st.sampled_from(["1.5", "1.6"]),
        "components": listed(
            st.fixed_dictionaries(
                {"name": JSON, "version": JSON, "purl": JSON, "components": JSON},
                optional={
                    "licenses": listed(
                        st.fixed_dictionaries({}, optional={"license": JSON, "expression": JSON})
                    )
                },
            )
        ),
    }
)
SPDX = st.fixed_dictionaries(
    {
        "spdxVersion": st.just("SPDX-2.3"),
        "packages": listed(
            st.fixed_dictionaries(
                {"SPDXID": JSON, "name": JSON, "licenseConcluded": JSON, "licenseDeclared": JSON},
                optional={"externalRefs": listed(st.dictionaries(KEYS, JSON, max_size=3))},
            )
        ),
    },
    optional={"relationships": JSON, "documentDescribes": JSON},
)
GITLAB = st.fixed_dictionaries(
    {
        "test_suites": listed(
            st.fixed_dictionaries(
                {
                    "name": JSON,
                    "suite_error": st.none() | JSON,
                    "test_cases": listed(st.dictionaries(KEYS, JSON, max_size=5)),
                }
            )
        )
    }
)
JENKINS = st.fixed_dictionaries(
    {
        "suites": listed(
            st.fixed_dictionaries({"cases": listed(st.dictionaries(KEYS, JSON, max_size=5))})
        )
    },
    optional={"childReports": JSON},
)
GITHUB = listed(
    st.fixed_dictionaries(
        {
            "number": JSON,
            "state": JSON,
            "rule": st.dictionaries(KEYS, JSON, max_size=4),
            "most_recent_instance": JSON,
        }
    )
)
SARIF = st.fixed_dictionaries(
    {
        "version": st.just("2.1.0"),
        "runs": listed(
            st.fixed_dictionaries(
                {"tool": JSON, "results": listed(st.dictionaries(KEYS, JSON, max_size=5))},
                optional={"versionControlProvenance": JSON},
            )
        ),
    }
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(JSON | CYCLONEDX | SPDX, st.sampled_from([CYCLONEDX_JSON, SPDX_JSON, ""]))
def test_any_json_is_an_sbom_or_an_evidence_error(value: Any, media_type: str) -> None:
    with contextlib.suppress(EvidenceError):
        parse_sbom(body(value), media_type)
    gate = licence_gate(
        [doc(EvidenceKind.SBOM, body(value), media_type=media_type)],
        LicencePolicy(allow=("MIT",), deny=("GPL-3.0-only",)),
        service="checkout",
        version="2.14.0",
    )
    assert gate.status in GateStatus and inert(gate.evidence)


@settings(max_examples=EXAMPLES, deadline=None)
@given(JSON | GITLAB | JENKINS, st.sampled_from([GITLAB_TEST_REPORT, JENKINS_TEST_REPORT]))
def test_any_json_is_a_test_report_or_an_evidence_error(value: Any, media_type: str) -> None:
    report = doc(EvidenceKind.TESTS, body(value), media_type=media_type, run_id="1", subject=SHA)
    with contextlib.suppress(EvidenceError):
        parse_tests(report)
    flaky_tests([report, report], 10)
    gate = evidence_gate([report], [report], TestsPolicy(), service="checkout", version="2.14.0")
    assert gate.status in GateStatus and inert(gate.evidence)


@settings(max_examples=EXAMPLES, deadline=None)
@given(JSON | GITHUB | SARIF, st.sampled_from([GITHUB_CODE_SCANNING, SARIF_JSON]))
def test_any_json_is_scan_alerts_or_an_evidence_error(value: Any, media_type: str) -> None:
    scan = doc(EvidenceKind.SCAN, body(value), media_type=media_type, subject=SHA)
    with contextlib.suppress(EvidenceError):
        parse_alerts(scan)
    gate = scan_gate([scan], ScanPolicy(), service="checkout", version="2.14.0", commit=SHA)
    assert gate.status in GateStatus and inert(gate.evidence)


XML_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10)
TAGS = st.sampled_from(
    [
        "testsuites",
        "testsuite",
        "testcase",
        "failure",
        "error",
        "skipped",
        "system-out",
        "flakyFailure",
        "properties",
        "property",
        "!DOCTYPE x",
        "x",
    ]
)


@st.composite
def xml_fragments(draw: st.DrawFn) -> bytes:
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        tag = draw(TAGS)
        kind = draw(st.sampled_from(["open", "close", "empty", "text", "attr"]))
        if kind == "open":
            parts.append(f"<{tag}>")
        elif kind == "close":
            parts.append(f"</{tag}>")
        elif kind == "empty":
            parts.append(f"<{tag}/>")
        elif kind == "attr":
            name = draw(st.sampled_from(["name", "classname", "message", "tests"]))
            parts.append(f'<{tag} {name}="{draw(XML_TEXT)}"/>')
        else:
            parts.append(draw(XML_TEXT))
    return "".join(parts).encode("utf-8", "surrogatepass")


@settings(max_examples=EXAMPLES, deadline=None)
@given(xml_fragments())
def test_any_xml_is_a_junit_report_or_an_evidence_error(fragment: bytes) -> None:
    report = doc(EvidenceKind.TESTS, fragment, media_type=JUNIT_XML, run_id="1")
    with contextlib.suppress(EvidenceError):
        parse_tests(report)
    gate = evidence_gate([report], [], TestsPolicy(), service="checkout", version="2.14.0")
    assert gate.status in GateStatus and inert(gate.evidence)
