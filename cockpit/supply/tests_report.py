"""Test reports as the tests gate reads them: JUnit XML, GitLab's and Jenkins' JSON reports.

Totals are counted from the test cases themselves; the counts a report declares about
itself (`tests="…"`, `total_count`, `failCount`) are not trusted. XML is checked with
expat before junitparser builds a tree: a DOCTYPE (the only place entities can be
declared, so the only door to "billion laughs" and external entities) is refused, as are
nesting and element counts no real report reaches.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from cockpit.evidence_model import (
    GITLAB_TEST_REPORT,
    JENKINS_TEST_REPORT,
    JUNIT_XML,
    Evidence,
    unpack,
)
from cockpit.supply import EvidenceError
from cockpit.supply.documents import MAX_BODY, digest, field, items, load_json, text

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
MAX_CASES = 200_000
MAX_XML_ELEMENTS = 2_000_000  # cases, their results and output, suites, properties
MAX_XML_DEPTH = 64
MESSAGE_LIMIT = 200
CACHED_BODY = 1024 * 1024  # packed: ~100,000 cases of JUnit XML; 32 of them at most

_GITLAB = {"success": PASSED, "failed": FAILED, "error": ERROR, "skipped": SKIPPED}
# Jenkins reports a case against the previous build too: FIXED passed now, REGRESSION failed.
_JENKINS = {"PASSED": PASSED, "FIXED": PASSED, "FAILED": FAILED, "REGRESSION": FAILED}
_JENKINS["SKIPPED"] = SKIPPED


@dataclass(frozen=True, slots=True)
class TestCase:
    """One test's outcome in one run (clean text)."""

    __test__ = False  # a domain type, not something for pytest to collect

    id: str  # "classname::name" (just the name when there is no class)
    name: str
    classname: str
    status: str  # passed, failed, error, skipped
    message: str = ""  # the failure's message, first line, bounded
    # Failed, then passed on a re-run inside the same run (Maven Surefire/Failsafe's
    # rerunFailingTestsCount records the failed tries as <flakyFailure>/<flakyError>).
    flaky: bool = False

    @property
    def broken(self) -> bool:
        """Failed or errored: what blocks a promote."""
        return self.status in (FAILED, ERROR)


@dataclass(frozen=True, slots=True)
class TestReport:
    """One run's test outcomes, counted from its cases."""

    __test__ = False

    total: int
    passed: int
    failed: int
    skipped: int
    errors: int
    failures: tuple[TestCase, ...]  # failed and errored cases, in report order
    digest: str  # "sha256:<hex>" of the document as fetched
    cases: tuple[TestCase, ...] = ()  # every case, for flaky detection
    format: str = ""  # "JUnit XML", "GitLab", "Jenkins"


def parse_tests(evidence: Evidence) -> TestReport:
    """The report in `evidence`; EvidenceError when it cannot be used.

    The same document comes back every poll (and once more in the flaky history), so
    reports of up to CACHED_BODY bytes packed are kept, 32 of them, by their packed bytes
    (equal documents pack alike).
    """
    if evidence.problem:
        raise EvidenceError(f"test report fetch failed: {text(evidence.problem)}")
    kind = evidence.media_type.split(";", 1)[0].strip().lower()
    if len(evidence.packed) <= CACHED_BODY:
        return _cached(kind, evidence.packed)
    return _parse(kind, evidence.body)


@lru_cache(maxsize=32)
def _cached(kind: str, packed: bytes) -> TestReport:
    return _parse(kind, unpack(packed))


def _parse(kind: str, body: bytes) -> TestReport:
    if kind == GITLAB_TEST_REPORT:
        return _report(_gitlab(load_json(body, "the GitLab test report")), body, "GitLab")
    if kind == JENKINS_TEST_REPORT:
        return _report(_jenkins(load_json(body, "the Jenkins test report")), body, "Jenkins")
    if kind in (JUNIT_XML, "application/xml", "text/xml"):
        return _report(_junit(body), body, "JUnit XML")
    raise EvidenceError(f"media type {text(kind)!r} is not a test report")


def _report(cases: list[TestCase], body: bytes, fmt: str) -> TestReport:
    counts = Counter(c.status for c in cases)
    return TestReport(
        total=len(cases),
        passed=counts[PASSED],
        failed=counts[FAILED],
        skipped=counts[SKIPPED],
        errors=counts[ERROR],
        failures=tuple(c for c in cases if c.broken),
        digest=digest(body),
        cases=tuple(cases),
        format=fmt,
    )


def _case(
    classname: object, name: object, status: str, message: object = "", flaky: bool = False
) -> TestCase:
    cls, nm = text(classname, 200), text(name, 200) or "(unnamed)"
    first = message.strip().splitlines()[0] if isinstance(message, str) and message.strip() else ""
    return TestCase(
        id=f"{cls}::{nm}" if cls else nm,
        name=nm,
        classname=cls,
        status=status,
        message=text(first, MESSAGE_LIMIT) if status in (FAILED, ERROR) else "",
        flaky=flaky and status == PASSED,
    )


def _status(known: dict[str, str], case: dict[str, Any]) -> str | None:
    value = case.get("status")
    return known.get(value) if isinstance(value, str) else None


def _bounded(cases: list[TestCase]) -> list[TestCase]:
    if len(cases) > MAX_CASES:
        raise EvidenceError(f"more than {MAX_CASES:,} test cases")
    return cases


# JUnit XML


def _check_xml(body: bytes) -> None:
    """Refuse what a test report never needs before any tree is built."""
    import xml.parsers.expat as expat

    if len(body) > MAX_BODY:
        raise EvidenceError(f"the JUnit report is {len(body):,} bytes, over the {MAX_BODY:,} limit")
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = elements = 0

    def doctype(*_: object) -> None:
        raise EvidenceError("the JUnit report declares a DOCTYPE (entities are refused)")

    def start(*_: object) -> None:
        nonlocal depth, elements
        depth += 1
        elements += 1
        if depth > MAX_XML_DEPTH:
            raise EvidenceError(f"the JUnit report nests deeper than {MAX_XML_DEPTH} elements")
        if elements > MAX_XML_ELEMENTS:
            raise EvidenceError(f"the JUnit report has more than {MAX_XML_ELEMENTS:,} elements")

    def end(*_: object) -> None:
        nonlocal depth
        depth -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise EvidenceError(f"the JUnit report is not well-formed XML: {text(str(exc))}") from None


def _junit(body: bytes) -> list[TestCase]:
    _check_xml(body)
    from junitparser import Error, Failure, JUnitXml, JUnitXmlError, Skipped

    try:
        xml = JUnitXml.fromstring(body)
    except JUnitXmlError:
        raise EvidenceError(
            "the XML is not a JUnit report (no testsuites or testsuite root)"
        ) from None
    except Exception as exc:  # the tree builder's ParseError; expat has already vetted it
        raise EvidenceError(f"the JUnit report cannot be read: {text(str(exc))}") from None
    cases: list[TestCase] = []
    for suite in xml:
        for case in suite:  # nested suites' cases too
            results = case.result
            status, message = PASSED, ""
            for kind, outcome in ((Error, ERROR), (Failure, FAILED), (Skipped, SKIPPED)):
                found = [r for r in results if isinstance(r, kind)]
                if found:
                    status, message = outcome, found[0].message or found[0].text or ""
                    break
            reran = status == PASSED and any(case.child(t) is not None for t in _rerun_tags())
            cases.append(_case(case.classname, case.name, status, message, reran))
            _bounded(cases)
    return cases


@cache
def _rerun_tags() -> tuple[type, ...]:
    """junitparser elements for Surefire's record of a failed try that a re-run passed."""
    from junitparser import Element

    class FlakyFailure(Element):
        _tag = "flakyFailure"

    class FlakyError(Element):
        _tag = "flakyError"

    return (FlakyFailure, FlakyError)


# GitLab: GET /projects/:id/pipelines/:pipeline_id/test_report


def _gitlab(doc: Any) -> list[TestCase]:
    if not isinstance(doc, dict) or "test_suites" not in doc:
        raise EvidenceError("not a GitLab test report (no test_suites)")
    cases: list[TestCase] = []
    for suite in items(doc, "test_suites", "the GitLab test report"):
        if not isinstance(suite, dict):
            raise EvidenceError("a GitLab test suite is not an object")
        if suite.get("suite_error"):
            raise EvidenceError(
                f"GitLab could not read suite {field(suite, 'name')!r}: {field(suite, 'suite_error')}"
            )
        for raw in items(suite, "test_cases", f"suite {field(suite, 'name')!r}"):
            if not isinstance(raw, dict):
                raise EvidenceError("a GitLab test case is not an object")
            status = _status(_GITLAB, raw)
            if status is None:
                raise EvidenceError(f"GitLab test case status {field(raw, 'status')!r} is unknown")
            message = raw.get("system_output") or raw.get("stack_trace") or ""
            cases.append(_case(raw.get("classname"), raw.get("name"), status, message))
            _bounded(cases)
    return cases


# Jenkins: GET <build>/testReport/api/json (a plain or an aggregated Maven report)


def _jenkins(doc: Any) -> list[TestCase]:
    if not isinstance(doc, dict) or not ("suites" in doc or "childReports" in doc):
        raise EvidenceError("not a Jenkins test report (no suites or childReports)")
    results = [doc] if "suites" in doc else []
    for child in items(doc, "childReports", "the Jenkins test report"):
        if isinstance(child, dict) and isinstance(child.get("result"), dict):
            results.append(child["result"])
    cases: list[TestCase] = []
    for result in results:
        for suite in items(result, "suites", "the Jenkins test report"):
            if not isinstance(suite, dict):
                raise EvidenceError("a Jenkins test suite is not an object")
            for raw in items(suite, "cases", "a Jenkins suite"):
                if not isinstance(raw, dict):
                    raise EvidenceError("a Jenkins test case is not an object")
                status = _status(_JENKINS, raw)
                if status is None:
                    raise EvidenceError(
                        f"Jenkins test case status {field(raw, 'status')!r} is unknown"
                    )
                message = raw.get("errorDetails") or raw.get("errorStackTrace") or ""
                cases.append(_case(raw.get("className"), raw.get("name"), status, message))
                _bounded(cases)
    return cases
