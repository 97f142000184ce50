"""Flaky detection across run attempts and the tests gate built on it."""

from __future__ import annotations

import json
from typing import Any

from cockpit.evidence_model import GITLAB_TEST_REPORT, JUNIT_XML, Evidence, EvidenceKind
from cockpit.model import Gate, GateStatus
from cockpit.supply.documents import digest
from cockpit.supply.flaky import TestsPolicy, flaky_tests
from cockpit.supply.flaky import tests_evidence_gate as evidence_gate  # not a test to collect
from tests.supply.helpers import doc, payload

SHA = "7c1f0e9d2b3a4c5d6e7f8091a2b3c4d5e6f70819"


def run(
    outcomes: dict[str, str], *, run_id: str = "", attempt: int = 1, minutes: int = 0, **more: Any
) -> Evidence:
    """A JUnit report of one run attempt: {test name: "pass" | "fail" | "error" | "skip"}."""
    tags = {
        "pass": "",
        "fail": '<failure message="boom"/>',
        "error": "<error/>",
        "skip": "<skipped/>",
    }
    cases = "".join(
        f'<testcase classname="t" name="{n}">{tags[o]}</testcase>' for n, o in outcomes.items()
    )
    body = f"<testsuite>{cases}</testsuite>".encode()
    more.setdefault("subject", SHA)
    return doc(
        EvidenceKind.TESTS,
        body,
        media_type=JUNIT_XML,
        run_id=run_id,
        attempt=attempt,
        minutes=minutes,
        **more,
    )


def gate(docs: list[Evidence], history: list[Evidence] = (), **policy: Any) -> Gate:  # type: ignore[assignment]
    return evidence_gate(docs, history, TestsPolicy(**policy), service="checkout", version="2.14.0")


# Flaky detection


def test_failed_then_passed_on_the_same_commit_is_flaky() -> None:
    history = [
        run({"a": "fail", "b": "pass"}, run_id="100"),
        run({"a": "pass", "b": "pass"}, run_id="100", attempt=2),
    ]
    (flaky,) = flaky_tests(history, 10)
    assert flaky.id == "t::a"
    assert flaky.reason == "failed and passed on commit 7c1f0e9"
    assert flaky.runs == ("100#1", "100#2")


def test_failing_on_one_commit_and_passing_on_another_is_not_flaky() -> None:
    history = [
        run({"a": "fail"}, run_id="1", subject="a" * 40),
        run({"a": "pass"}, run_id="2", subject="b" * 40, minutes=1),
    ]
    assert flaky_tests(history, 10) == ()


def test_two_flips_across_runs_are_flaky_one_is_not() -> None:
    commits = ["c1", "c2", "c3", "c4"]
    once = [
        run({"a": o}, run_id=str(i), subject=c, minutes=i)
        for i, (o, c) in enumerate(zip(["pass", "pass", "fail", "fail"], commits, strict=True))
    ]
    assert flaky_tests(once, 10) == ()  # one flip: broken, not flaky
    twice = [
        run({"a": o}, run_id=str(i), subject=c, minutes=i)
        for i, (o, c) in enumerate(zip(["pass", "fail", "pass", "pass"], commits, strict=True))
    ]
    (flaky,) = flaky_tests(twice, 10)
    assert flaky.reason == "flipped pass/fail 2 times in the last 4 runs"
    assert flaky.runs == ("1#1", "2#1")


def test_the_window_bounds_both_rules() -> None:
    old = [run({"a": "fail"}, run_id="1"), run({"a": "pass"}, run_id="1", attempt=2, minutes=1)]
    recent = [run({"a": "pass"}, run_id=str(i), subject=f"c{i}", minutes=i) for i in range(2, 6)]
    assert [f.id for f in flaky_tests(old + recent, 6)] == ["t::a"]
    assert flaky_tests(old + recent, 4) == ()  # the flake fell out of the last 4 runs


def test_runs_are_ordered_by_time_then_attempt_not_by_list_order() -> None:
    shuffled = [
        run({"a": "pass"}, run_id="3", subject="c3", minutes=3),
        run({"a": "pass"}, run_id="1", subject="c1", minutes=1),
        run({"a": "fail"}, run_id="2", subject="c2", minutes=2),
    ]
    (flaky,) = flaky_tests(shuffled, 10)
    assert flaky.runs == ("2#1", "3#1")


def test_skips_problems_and_unusable_reports_say_nothing() -> None:
    history = [
        run({"a": "fail"}, run_id="1", subject="c1"),
        run({"a": "skip"}, run_id="2", subject="c2", minutes=1),
        doc(EvidenceKind.TESTS, problem="expired", run_id="3", minutes=2),
        doc(EvidenceKind.TESTS, b"<nope", media_type=JUNIT_XML, run_id="4", minutes=3),
        run({"a": "fail"}, run_id="5", subject="c5", minutes=4),
    ]
    assert flaky_tests(history, 10) == ()


def test_the_same_document_twice_counts_once() -> None:
    one = run({"a": "fail"}, run_id="1")
    assert (
        flaky_tests([one, one, run({"a": "pass"}, run_id="2", subject="c2", minutes=1)], 10) == ()
    )


# The gate


def test_a_clean_report_passes_with_facts() -> None:
    body = payload("gitlab-test-report.json")
    clean = json.loads(body)
    clean["test_suites"][0]["test_cases"][2]["status"] = "success"
    body = json.dumps(clean).encode()
    report = doc(
        EvidenceKind.TESTS, body, media_type=GITLAB_TEST_REPORT, run_id="1874410", subject=SHA
    )
    result = gate([report])
    assert result.status is GateStatus.PASS, result.evidence
    assert (result.name, result.service, result.version) == ("tests", "checkout", "2.14.0")
    assert result.evidence == "4 tests passed (1 skipped) in run 1874410#1"
    facts = dict(result.facts)
    assert facts["report_digest"] == digest(body)
    assert (facts["total"], facts["passed"], facts["failed"], facts["skipped"]) == (
        "5",
        "4",
        "0",
        "1",
    )
    assert (facts["run_id"], facts["attempt"], facts["commit"]) == ("1874410", "1", SHA)
    assert "flaky" not in facts


def test_a_failure_fails_naming_each_failing_test() -> None:
    report = doc(EvidenceKind.TESTS, payload("junit-pytest.xml"), media_type=JUNIT_XML, run_id="55")
    result = gate([report])
    assert result.status is GateStatus.FAIL
    assert result.evidence.startswith("2 of 6 tests failed in run 55#1: ")
    assert (
        "tests.test_payment::test_refund_rounding (AssertionError: assert Decimal('9.99')"
        in result.evidence
    )
    assert "tests.test_payment::test_gateway_timeout" in result.evidence
    assert (dict(result.facts)["failed"], dict(result.facts)["errors"]) == ("1", "1")


def test_the_newest_attempt_decides() -> None:
    first = run({"a": "fail", "b": "pass"}, run_id="9", attempt=1)
    rerun = run({"a": "pass", "b": "pass"}, run_id="9", attempt=2)
    assert gate([first, rerun]).status is GateStatus.PASS
    # observed later, but attempt 1 is superseded by the re-run of the same run
    late_first = run({"a": "fail", "b": "pass"}, run_id="9", attempt=1, minutes=5)
    assert gate([rerun, late_first]).status is GateStatus.PASS
    newer_run = run({"a": "pass", "b": "fail"}, run_id="10", minutes=9, subject="d" * 40)
    assert gate([first, rerun, newer_run]).status is GateStatus.FAIL
    # "a" failed and passed on one commit: flaky, so its failure in a newer run is excused
    flaky_again = run({"a": "fail", "b": "pass"}, run_id="10", minutes=9, subject="d" * 40)
    assert gate([first, rerun, flaky_again]).status is GateStatus.PASS


def test_known_flaky_failures_are_allowed_unless_policy_says_they_block() -> None:
    history = [
        run({"a": "pass", "b": "pass"}, run_id="1", subject="c1", minutes=1),
        run({"a": "fail", "b": "pass"}, run_id="2", subject="c2", minutes=2),
        run({"a": "pass", "b": "pass"}, run_id="3", subject="c3", minutes=3),
    ]
    now = run({"a": "fail", "b": "pass"}, run_id="4", minutes=4)
    allowed = gate([now], history)
    assert allowed.status is GateStatus.PASS
    assert allowed.evidence == "1 known-flaky failure allowed: t::a (run 4#1)"
    assert dict(allowed.facts)["flaky"] == "t::a"
    blocked = gate([now], history, flaky_blocks=True)
    assert blocked.status is GateStatus.FAIL
    assert "t::a (flaky) (boom)" in blocked.evidence


def test_a_flaky_test_does_not_excuse_another_failure() -> None:
    history = [
        run({"a": o, "b": "pass"}, run_id=str(i), subject=f"c{i}", minutes=i)
        for i, o in enumerate(["pass", "fail", "pass"])
    ]
    now = run({"a": "fail", "b": "fail"}, run_id="9", minutes=9)
    result = gate([now], history)
    assert result.status is GateStatus.FAIL
    assert result.evidence.index("t::b") < result.evidence.index(
        "t::a (flaky)"
    )  # real failures first


def test_history_of_another_service_is_not_used() -> None:
    history = [
        run({"a": o}, run_id=str(i), subject=f"c{i}", minutes=i, service="search")
        for i, o in enumerate(["pass", "fail", "pass"])
    ]
    assert gate([run({"a": "fail"}, run_id="9", minutes=9)], history).status is GateStatus.FAIL


def test_no_report_a_problem_or_an_unusable_report_is_unknown() -> None:
    assert gate([]).evidence == "no test report for checkout 2.14.0"
    assert gate([run({"a": "pass"}, version="2.13.0")]).status is GateStatus.UNKNOWN
    problem = gate([doc(EvidenceKind.TESTS, problem="HTTP 404 from testReport/api/json")])
    assert (problem.status, problem.evidence) == (
        GateStatus.UNKNOWN,
        "test report fetch failed: HTTP 404 from testReport/api/json",
    )
    broken = gate([doc(EvidenceKind.TESTS, b"<testsuite", media_type=JUNIT_XML)])
    assert broken.status is GateStatus.UNKNOWN and "not well-formed" in broken.evidence
    empty = gate([doc(EvidenceKind.TESTS, b"<testsuite/>", media_type=JUNIT_XML, run_id="3")])
    assert (empty.status, empty.evidence) == (
        GateStatus.UNKNOWN,
        "the test report of run 3#1 has no test cases",
    )


def test_several_documents_of_one_run_are_judged_together() -> None:
    unit = run({"a": "pass"}, run_id="7")
    e2e = run({"z": "fail"}, run_id="7")
    result = gate([unit, e2e])
    assert result.status is GateStatus.FAIL
    assert dict(result.facts)["report_digest"].count("sha256:") == 2


def test_failing_tests_are_named_up_to_a_bound() -> None:
    now = run({f"t{i}": "fail" for i in range(9)}, run_id="1")
    result = gate([now])
    assert result.status is GateStatus.FAIL
    assert result.evidence.endswith("+4 more")
    assert "t::t4" in result.evidence and "t::t5" not in result.evidence


def test_without_run_ids_documents_seen_together_are_one_run_and_a_repeat_counts_once() -> None:
    a = run({"a": "fail"}, subject="c1")
    b = run({"b": "pass"}, subject="c1")  # same source, commit and time: the same run
    later = run({"a": "pass"}, subject="c2", minutes=1)
    assert flaky_tests([a, b, a, later], 10) == ()  # one failure, then one pass: no flake
    result = gate([a, b])
    assert result.evidence.startswith("1 of 2 tests failed in run ")


def test_the_same_report_twice_in_the_newest_run_is_counted_once() -> None:
    one = run({"a": "fail", "b": "pass"}, run_id="5")
    assert dict(gate([one, one]).facts)["total"] == "2"


def test_a_passed_surefire_retry_marks_the_test_flaky_and_excuses_its_next_failure() -> None:
    retried = doc(
        EvidenceKind.TESTS, payload("junit-surefire-rerun.xml"), media_type=JUNIT_XML, run_id="1183"
    )
    (flaky,) = flaky_tests([retried], 10)
    assert flaky.id == "com.acme.checkout.PaymentTest::gatewayTimeout"
    assert (flaky.reason, flaky.runs) == (
        "failed and passed on a re-run in run 1183#1",
        ("1183#1",),
    )
    now = doc(
        EvidenceKind.TESTS,
        b'<testsuite><testcase classname="com.acme.checkout.PaymentTest" name="gatewayTimeout">'
        b"<error/></testcase></testsuite>",
        media_type=JUNIT_XML,
        run_id="1184",
        minutes=1,
    )
    assert gate([now], [retried]).status is GateStatus.PASS
    assert gate([now], []).status is GateStatus.FAIL
