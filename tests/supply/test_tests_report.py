"""Test reports parsed from recorded JUnit XML, GitLab and Jenkins payloads, and hostile ones."""

from __future__ import annotations

import json
import time

import pytest

from cockpit.evidence_model import (
    GITLAB_TEST_REPORT,
    JENKINS_TEST_REPORT,
    JUNIT_XML,
    Evidence,
    EvidenceKind,
)
from cockpit.supply import EvidenceError
from cockpit.supply.documents import digest
from cockpit.supply.tests_report import MAX_XML_DEPTH, parse_tests
from tests.supply.helpers import doc, payload


def report(body: bytes, media_type: str = JUNIT_XML) -> Evidence:
    return doc(EvidenceKind.TESTS, body, media_type=media_type)


def junit(*cases: str, root: str = "testsuites") -> bytes:
    suite = '<testsuite name="s" tests="1" failures="0">' + "".join(cases) + "</testsuite>"
    return (f"<{root}>{suite}</{root}>" if root == "testsuites" else suite).encode()


def test_pytest_junit_totals_failures_and_messages() -> None:
    body = payload("junit-pytest.xml")
    parsed = parse_tests(report(body))
    assert (parsed.total, parsed.passed, parsed.failed, parsed.errors, parsed.skipped) == (
        6,
        3,
        1,
        1,
        1,
    )
    assert parsed.digest == digest(body)
    assert parsed.format == "JUnit XML"
    failed = {c.id: c for c in parsed.failures}
    assert set(failed) == {
        "tests.test_payment::test_refund_rounding",
        "tests.test_payment::test_gateway_timeout",
    }
    refund = failed["tests.test_payment::test_refund_rounding"]
    assert (refund.status, refund.name, refund.classname) == (
        "failed",
        "test_refund_rounding",
        "tests.test_payment",
    )
    assert refund.message == "AssertionError: assert Decimal('9.99') == Decimal('10.00')"
    assert failed["tests.test_payment::test_gateway_timeout"].status == "error"
    assert len(parsed.cases) == 6


def test_a_bare_testsuite_and_nested_suites_are_read() -> None:
    bare = junit(
        '<testcase classname="a" name="t"><failure>boom\nline 2</failure></testcase>',
        root="testsuite",
    )
    parsed = parse_tests(report(bare))
    assert (parsed.total, parsed.failed) == (1, 1)
    assert parsed.failures[0].message == "boom"  # first line of the text when no message
    nested = b'<testsuites><testsuite name="o"><testsuite name="i"><testcase name="deep"/></testsuite></testsuite></testsuites>'
    (case,) = parse_tests(report(nested)).cases
    assert (case.id, case.status) == ("deep", "passed")


def test_totals_come_from_the_cases_not_the_attributes() -> None:
    body = (
        b'<testsuite name="s" tests="1000" failures="0" errors="0">'
        b'<testcase name="a"><failure message="x"/></testcase><testcase name="b"/></testsuite>'
    )
    parsed = parse_tests(report(body))
    assert (parsed.total, parsed.failed, parsed.passed) == (2, 1, 1)


def test_gitlab_test_report() -> None:
    body = payload("gitlab-test-report.json")
    parsed = parse_tests(report(body, GITLAB_TEST_REPORT))
    assert (parsed.total, parsed.passed, parsed.failed, parsed.errors, parsed.skipped) == (
        5,
        3,
        1,
        0,
        1,
    )
    (failure,) = parsed.failures
    assert failure.id == "spec.payment_spec::Payment rounds refunds"
    assert failure.message == "Failure/Error: expect(refund(19.98, 2)).to eq(10.00)"
    assert parsed.format == "GitLab"


def test_jenkins_test_report_regression_fails_and_fixed_passes() -> None:
    parsed = parse_tests(report(payload("jenkins-testReport.json"), JENKINS_TEST_REPORT))
    assert (parsed.total, parsed.passed, parsed.failed, parsed.skipped) == (6, 3, 2, 1)
    failed = {c.id: c for c in parsed.failures}
    assert (
        failed["com.acme.checkout.PaymentTest::refundRounding"].message
        == "expected:<10.00> but was:<9.99>"
    )
    timeout = failed["com.acme.checkout.PaymentTest::gatewayTimeout"]
    assert (
        timeout.message == "java.net.ConnectException: Connection refused"
    )  # from the stack trace


def test_a_jenkins_aggregated_maven_report_reads_its_child_reports() -> None:
    child = json.loads(payload("jenkins-testReport.json"))
    body = json.dumps(
        {
            "_class": "hudson.maven.reporters.SurefireAggregatedReport",
            "failCount": 0,
            "skipCount": 0,
            "totalCount": 6,
            "childReports": [{"child": {"number": 1184}, "result": child}],
        }
    ).encode()
    assert parse_tests(report(body, JENKINS_TEST_REPORT)).failed == 2


@pytest.mark.parametrize(
    ("body", "media_type", "why"),
    [
        (b"<testsuites><testsuite>", JUNIT_XML, "not well-formed"),
        (b"", JUNIT_XML, "not well-formed"),
        (b"<html><body>Sign in</body></html>", JUNIT_XML, "not a JUnit report"),
        (
            b"<testsuite><testcase name='a'>&ghost;</testcase></testsuite>",
            JUNIT_XML,
            "not well-formed",
        ),
        (b'{"test_suites": "x"}', GITLAB_TEST_REPORT, "not a list"),
        (b'{"total_count": 3}', GITLAB_TEST_REPORT, "no test_suites"),
        (
            b'{"test_suites": [{"name": "a", "suite_error": "JUnit XML parsing failed", "test_cases": []}]}',
            GITLAB_TEST_REPORT,
            "could not read suite",
        ),
        (
            b'{"test_suites": [{"test_cases": [{"name": "a", "status": "exploded"}]}]}',
            GITLAB_TEST_REPORT,
            "unknown",
        ),
        (
            b'{"test_suites": [{"test_cases": [{"name": "a", "status": ["failed"]}]}]}',
            GITLAB_TEST_REPORT,
            "unknown",
        ),
        (
            b'{"suites": [{"cases": [{"name": "a", "status": "BROKEN"}]}]}',
            JENKINS_TEST_REPORT,
            "unknown",
        ),
        (b'{"suites": ["x"]}', JENKINS_TEST_REPORT, "not an object"),
        (b'{"failCount": 0}', JENKINS_TEST_REPORT, "no suites"),
        (b'{"suites": [{"cases": [', JENKINS_TEST_REPORT, "not valid JSON"),
        (b"<testsuite/>", "text/plain", "not a test report"),
    ],
)
def test_unusable_reports_raise_evidence_error(body: bytes, media_type: str, why: str) -> None:
    with pytest.raises(EvidenceError, match=why):
        parse_tests(report(body, media_type))


def test_a_fetch_problem_is_an_evidence_error() -> None:
    with pytest.raises(EvidenceError, match="artifact expired"):
        parse_tests(doc(EvidenceKind.TESTS, problem="artifact expired"))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuite><testcase name="a"><failure message="&lol9;"/></testcase></testsuite>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<testsuite><testcase name="a"><failure message="&x;"/></testcase></testsuite>"""


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        EXTERNAL,
        b'<!DOCTYPE testsuite SYSTEM "http://127.0.0.1:9/x.dtd"><testsuite/>',
    ],
)
def test_doctypes_and_entities_are_refused_at_once(body: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(EvidenceError, match="DOCTYPE"):
        parse_tests(report(body))
    assert time.monotonic() - started < 1.0


def test_a_utf16_doctype_is_refused_too() -> None:
    body = (
        EXTERNAL.decode()
        .replace('version="1.0"', 'version="1.0" encoding="utf-16"')
        .encode("utf-16")
    )
    with pytest.raises(EvidenceError, match="DOCTYPE"):
        parse_tests(report(body))


def test_nesting_past_the_bound_is_refused() -> None:
    deep = (
        b"<testsuites>"
        + b"<testsuite>" * MAX_XML_DEPTH
        + b"</testsuite>" * MAX_XML_DEPTH
        + b"</testsuites>"
    )
    with pytest.raises(EvidenceError, match="nests deeper"):
        parse_tests(report(deep))


def test_a_huge_report_is_refused_by_size() -> None:
    body = b"<testsuite>" + b" " * (64 * 1024 * 1024) + b"</testsuite>"
    with pytest.raises(EvidenceError, match="over the"):
        parse_tests(report(body))


def test_hostile_names_and_messages_are_clean_one_line_text() -> None:
    body = junit(
        '<testcase classname="x&#155;31m" name="[red]t&#8238;"><failure message="a&#155;2J&#10;b"/></testcase>'
    )  # XML 1.0 has no ESC or BEL at all; C1 CSI, bidi overrides and newlines it has
    (case,) = parse_tests(report(body)).failures
    for value in (case.id, case.name, case.classname, case.message):
        assert value.isprintable(), value
    assert case.name.startswith("[red]t")  # markup kept as text, never interpreted
    assert "\\x9b" in case.classname and case.message == "a\\x9b2J"  # first line only


def test_wrong_types_in_json_reports_read_as_text_or_nothing() -> None:
    body = json.dumps(
        {
            "test_suites": [
                {
                    "test_cases": [
                        {
                            "status": "failed",
                            "name": 12345678901234567890,
                            "classname": {"a": 1},
                            "system_output": ["x"],
                            "stack_trace": None,
                        }
                    ]
                }
            ]
        }
    ).encode()
    (case,) = parse_tests(report(body, GITLAB_TEST_REPORT)).failures
    assert (case.id, case.classname, case.message) == ("12345678901234567890", "", "")


def test_surefire_reruns_a_passed_retry_is_flaky_a_failed_one_still_fails() -> None:
    parsed = parse_tests(report(payload("junit-surefire-rerun.xml")))
    by_name = {c.name: c for c in parsed.cases}
    assert (parsed.total, parsed.passed, parsed.failed) == (3, 2, 1)
    assert by_name["gatewayTimeout"].status == "passed" and by_name["gatewayTimeout"].flaky
    assert by_name["refundRounding"].status == "failed" and not by_name["refundRounding"].flaky
    assert by_name["refundRounding"].message == "expected: <10.00> but was: <9.99>"
    assert not by_name["capturesPayment"].flaky
