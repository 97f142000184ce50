"""The run detail's tests: failing tests named from the run's newest report, known-flaky ones
marked, the service's flaky tests listed; hostile names made inert; unreadable reports said."""

from __future__ import annotations

from datetime import timedelta

from cockpit.evidence_model import JUNIT_XML
from cockpit.fleet.run_tests import SHOWN, run_tests
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import Environment, Evidence, EvidenceKind, Observation, PipelineRun
from tests.fakes import T0, pipeline_run


def junit(*cases: tuple[str, bool]) -> bytes:
    rows = [
        f'<testcase classname="t" name="{name}">'
        + ('<failure message="boom: it broke">boom</failure>' if failed else "")
        + "</testcase>"
        for name, failed in cases
    ]
    failures = sum(failed for _, failed in cases)
    return (
        f'<testsuite name="web" tests="{len(cases)}" failures="{failures}">'
        + "".join(rows)
        + "</testsuite>"
    ).encode()


def report(run: PipelineRun, body: bytes, attempt: int = 1, problem: str = "") -> Evidence:
    return Evidence(
        EvidenceKind.TESTS,
        run.service,
        run.version,
        "ci",
        run.queued_at,
        JUNIT_XML,
        b"" if problem else body,
        subject=run.commit,
        ref=f"{run.id}/{attempt}",
        run_id=run.id,
        attempt=attempt,
        problem=problem,
    )


def fleet(runs: list[PipelineRun], docs: list[Evidence]) -> FleetSnapshot:
    obs = Observation("ci", T0, runs=tuple(runs), evidence=tuple(docs))
    state = SourceState("ci", "test", True, T0, T0, "", 0, 60.0)
    return FleetSnapshot.empty([Environment("prod", 0, True)], T0).with_observation(obs, state, T0)


def runs() -> tuple[PipelineRun, PipelineRun]:
    older = pipeline_run(
        T0,
        id="web#6",
        number=6,
        version="1.0.6",
        commit="c6" * 20,
        queued_at=T0 - timedelta(hours=2),
    )
    newer = pipeline_run(T0, id="web#7", number=7, version="1.0.7", commit="c7" * 20)
    return older, newer


def test_failing_tests_are_named_and_the_known_flaky_one_marked() -> None:
    older, newer = runs()
    docs = [
        # web#6 failed test_login on its first attempt and passed on the re-run: flaky.
        report(older, junit(("test_login", True), ("test_pay", False)), attempt=1),
        report(older, junit(("test_login", False), ("test_pay", False)), attempt=2),
        report(newer, junit(("test_login", True), ("test_pay", True))),
    ]
    found = run_tests(fleet([older, newer], docs), newer)
    assert found is not None and not found.problem
    assert [(t.id, t.flaky) for t in found.failing] == [
        ("t::test_login", True),
        ("t::test_pay", False),
    ]
    assert found.failing[0].message == "boom: it broke"
    assert found.flaky == ("t::test_login",)
    assert (found.total, found.failed) == (2, 2)


def test_the_newest_attempt_of_the_run_is_the_one_shown() -> None:
    older, _ = runs()
    docs = [
        report(older, junit(("test_login", True)), attempt=1),
        report(older, junit(("test_login", False)), attempt=2),
    ]
    found = run_tests(fleet([older], docs), older)
    assert found is not None and found.failing == () and "attempt 2" in found.report


def test_many_failures_are_bounded_and_hostile_names_inert() -> None:
    _, newer = runs()
    # A C1 control (CSI) in a name: XML 1.0 allows it, a terminal would act on it.
    body = junit(*[(f"test_{i}\u009b31m", True) for i in range(SHOWN + 5)])
    found = run_tests(fleet([newer], [report(newer, body)]), newer)
    assert found is not None
    assert len(found.failing) == SHOWN and found.more == 5
    assert all("\u009b" not in t.id for t in found.failing)


def test_no_report_is_none_and_a_failed_fetch_or_bad_document_is_said() -> None:
    _, newer = runs()
    assert run_tests(fleet([newer], []), newer) is None
    failed = run_tests(fleet([newer], [report(newer, b"", problem="HTTP 500")]), newer)
    assert failed is not None and failed.problem == "fetch failed: HTTP 500"
    broken = run_tests(fleet([newer], [report(newer, b"<testsuite><testcase")]), newer)
    assert broken is not None and broken.problem and broken.failing == ()


def test_a_poll_reporting_the_same_documents_keeps_the_evidence_index() -> None:
    older, newer = runs()
    docs = (report(older, junit(("test_login", False))), report(newer, junit(("test_pay", True))))
    first = fleet([older, newer], list(docs))
    state = SourceState("ci", "test", True, T0, T0, "", 0, 60.0)
    again = Observation("ci", T0, runs=(older, newer), evidence=docs)
    same = first.with_observation(again, state, T0)
    assert same.evidence is first.evidence  # nothing re-indexed
    assert same.evidence_for("web", "1.0.7", EvidenceKind.TESTS) == (docs[1],)
    assert same.evidence_history("web", EvidenceKind.TESTS) == (
        docs[1],
        docs[0],
    )  # newest run first
    fewer = first.with_observation(Observation("ci", T0, runs=(older, newer)), state, T0)
    assert fewer.evidence_for("web", "1.0.7", EvidenceKind.TESTS) == ()


def test_a_dialog_names_a_failing_source_of_the_service_s_documents() -> None:
    from dataclasses import replace

    from cockpit.actions.gates import stale_evidence
    from cockpit.model import Action, ActionKind

    older, _ = runs()
    # A source that reports only documents (no run, no deployment of web).
    docs = Observation("ci", T0, evidence=(report(older, junit(("test_login", False))),))
    ok = SourceState("ci", "test", True, T0, T0, "", 0, 60.0)
    snap = FleetSnapshot.empty([Environment("prod", 0, True)], T0).with_observation(docs, ok, T0)
    action = Action(ActionKind.PROMOTE, "web", "prod", version="1.0.6")
    assert stale_evidence(snap, action) == []
    failing = snap.with_source(replace(ok, ok=False, error="HTTP 503"), T0)
    assert [p.split(" (")[0] for p in stale_evidence(failing, action)] == ["ci failing"]
