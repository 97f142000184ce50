"""Flaky tests, and the tests gate that decides whether a known-flaky failure may ship.

A test is flaky when, within the last `window` runs (each run attempt counts as one run,
ordered by when it was observed, then attempt), it failed in one run and passed in another
on the same commit, failed and then passed on a re-run inside one run (as Surefire
records it), or its outcome flipped pass<->fail at least twice. Skipped outcomes
say nothing either way. The window bounds both rules, so a flake that was fixed stops
being excused once it has passed `window` runs in a row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cockpit.evidence_model import Evidence, EvidenceKind
from cockpit.model import Gate, GateStatus
from cockpit.supply import EvidenceError
from cockpit.supply.documents import bounded, of_kind, plural, short, text
from cockpit.supply.tests_report import PASSED, TestCase, TestReport, parse_tests

GATE = "tests"
RUNS_NAMED = 6  # run labels kept per flaky test


@dataclass(frozen=True, slots=True)
class TestsPolicy:
    """How far back flakiness is looked for, and whether a flaky failure still blocks."""

    __test__ = False

    flaky_window: int = 10
    flaky_blocks: bool = False


@dataclass(frozen=True, slots=True)
class FlakyTest:
    """A test whose outcome cannot be trusted, why, and the runs that show it."""

    id: str
    reason: str
    runs: tuple[str, ...]


@dataclass(slots=True)
class _Run:
    """One run attempt's outcomes, from one or more of its documents."""

    label: str
    commit: str
    when: datetime
    attempt: int
    broken: dict[str, bool] = field(default_factory=dict)  # test id -> failed or errored
    reran: set[str] = field(default_factory=set)  # failed, then passed on a re-run in the run


def _label(doc: Evidence) -> str:
    if doc.run_id:
        return f"{text(doc.run_id, 40)}#{doc.attempt}"
    return doc.observed_at.isoformat(timespec="seconds")


def _key(doc: Evidence) -> tuple[str, ...]:
    """Which run attempt a document belongs to: without a run id, what was seen together."""
    if doc.run_id:
        return (doc.source, doc.run_id, str(doc.attempt))
    return ("", doc.source, doc.subject, doc.observed_at.isoformat(), str(doc.attempt))


def _runs(history: Sequence[Evidence], window: int) -> list[_Run]:
    """The last `window` run attempts, oldest first, each from all of its documents.

    Runs are chosen from the documents' metadata before any is parsed, so a long history
    costs only the window's parsing; an unusable document says nothing and is skipped.
    """
    groups: dict[tuple[str, ...], list[Evidence]] = defaultdict(list)
    for doc in history:
        if doc.kind == EvidenceKind.TESTS and not doc.problem:
            groups[_key(doc)].append(doc)
    ordered = sorted(groups.values(), key=lambda g: (max(d.observed_at for d in g), g[0].attempt))
    runs: list[_Run] = []
    for group in ordered[-max(window, 1) :]:
        head = group[0]
        run = _Run(_label(head), head.subject, max(d.observed_at for d in group), head.attempt)
        for doc in {d.packed: d for d in group}.values():  # the same document twice: once
            try:
                report = parse_tests(doc)
            except EvidenceError:
                continue
            for case in report.cases:
                if case.flaky:
                    run.reran.add(case.id)
                if case.broken:
                    run.broken[case.id] = True
                elif case.status == PASSED:
                    run.broken.setdefault(case.id, False)
        runs.append(run)
    return runs


def flaky_tests(history: Sequence[Evidence], window: int) -> tuple[FlakyTest, ...]:
    """The flaky tests in the last `window` runs of `history` (test reports), by id."""
    runs = _runs(history, window)
    found: dict[str, FlakyTest] = {}
    by_commit: dict[str, list[_Run]] = defaultdict(list)
    for run in runs:
        if run.commit:
            by_commit[run.commit].append(run)
    for commit, same in by_commit.items():
        outcomes: dict[str, list[tuple[bool, str]]] = defaultdict(list)
        for run in same:
            for test, broken in run.broken.items():
                outcomes[test].append((broken, run.label))
        for test, seen in outcomes.items():
            if len({broken for broken, _ in seen}) == 2:
                labels = tuple(dict.fromkeys(label for _, label in seen))[:RUNS_NAMED]
                found[test] = FlakyTest(
                    test, f"failed and passed on commit {short(commit)}", labels
                )
    for run in runs:
        for test in sorted(run.reran - found.keys()):
            found[test] = FlakyTest(
                test, f"failed and passed on a re-run in run {run.label}", (run.label,)
            )
    sequences: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    for run in runs:
        for test, broken in run.broken.items():
            sequences[test].append((broken, run.label))
    for test, seq in sequences.items():
        if test in found:
            continue
        flips = [seq[i][1] for i in range(1, len(seq)) if seq[i][0] != seq[i - 1][0]]
        if len(flips) >= 2:
            reason = f"flipped pass/fail {len(flips)} times in the last {plural(len(runs), 'run')}"
            found[test] = FlakyTest(test, reason, tuple(flips)[:RUNS_NAMED])
    return tuple(found[t] for t in sorted(found))


def _newest(docs: list[Evidence]) -> list[Evidence]:
    """The documents of the newest run attempt: a re-run's attempt supersedes the earlier."""
    groups: dict[tuple[str, ...], list[Evidence]] = defaultdict(list)
    for doc in docs:
        groups[_key(doc)].append(doc)
    latest_attempt: dict[tuple[str, str], int] = {}
    for doc in docs:
        if doc.run_id:
            key = (doc.source, doc.run_id)
            latest_attempt[key] = max(latest_attempt.get(key, 0), doc.attempt)
    live = [
        g
        for g in groups.values()
        if not g[0].run_id or g[0].attempt == latest_attempt[(g[0].source, g[0].run_id)]
    ]
    return max(live, key=lambda g: (max(d.observed_at for d in g), g[0].attempt))


def _named(case: TestCase, flaky: set[str]) -> str:
    mark = " (flaky)" if case.id in flaky else ""
    message = f" ({text(case.message, 80)})" if case.message else ""
    return f"{text(case.id, 100)}{mark}{message}"


def tests_evidence_gate(
    docs: Sequence[Evidence],
    history: Sequence[Evidence],
    policy: TestsPolicy,
    *,
    service: str,
    version: str,
) -> Gate:
    """The tests gate for `version` of `service`: its newest run attempt's report(s)."""
    mine = of_kind(docs, EvidenceKind.TESTS, service, version)
    if not mine:
        return Gate(
            GATE,
            GateStatus.UNKNOWN,
            f"no test report for {text(service)} {text(version)}",
            service,
            "",
            "",
            version,
        )
    newest = list({d.packed: d for d in _newest(mine)}.values())  # a document twice: once
    head = newest[0]
    source = ", ".join(dict.fromkeys(text(d.source) for d in newest if d.source))

    def gate(status: GateStatus, evidence: str, facts: Sequence[tuple[str, str]] = ()) -> Gate:
        return Gate(GATE, status, evidence, service, "", source, version, tuple(facts))

    reports: list[TestReport] = []
    for doc in newest:
        if doc.problem:
            return gate(GateStatus.UNKNOWN, f"test report fetch failed: {text(doc.problem, 200)}")
        try:
            reports.append(parse_tests(doc))
        except EvidenceError as exc:
            return gate(GateStatus.UNKNOWN, f"test report unusable: {text(str(exc), 200)}")
    cases = [c for r in reports for c in r.cases]
    failures = [c for c in cases if c.broken]
    past = [d for d in history if d.service == service]
    flaky = flaky_tests([*past, *mine], policy.flaky_window)
    flaky_ids = {f.id for f in flaky}
    total, skipped = len(cases), sum(c.status == "skipped" for c in cases)
    run = _label(head)
    facts = [
        ("report_digest", ",".join(r.digest for r in reports)),
        ("report_format", ",".join(dict.fromkeys(r.format for r in reports))),
        ("total", str(total)),
        ("passed", str(sum(c.status == PASSED for c in cases))),
        ("failed", str(sum(c.status == "failed" for c in cases))),
        ("errors", str(sum(c.status == "error" for c in cases))),
        ("skipped", str(skipped)),
        ("run_id", text(head.run_id)),
        ("attempt", str(head.attempt)),
        ("commit", text(head.subject)),
        ("flaky_count", str(len(flaky))),
        ("flaky", bounded([text(f.id, 100) for f in flaky], 10)),
    ]
    facts = [(k, v) for k, v in facts if v]
    if not total:
        return gate(GateStatus.UNKNOWN, f"the test report of run {run} has no test cases", facts)
    if not failures:
        line = f"{plural(total - skipped, 'test')} passed ({skipped:,} skipped) in run {run}"
        if flaky:
            line += f"; known flaky: {bounded([text(f.id, 100) for f in flaky])}"
        return gate(GateStatus.PASS, line, facts)
    real = [c for c in failures if c.id not in flaky_ids]
    if not real and not policy.flaky_blocks:
        allowed = [text(c.id, 100) for c in failures]
        line = f"{plural(len(failures), 'known-flaky failure')} allowed: {bounded(allowed)} (run {run})"
        return gate(GateStatus.PASS, line, facts)
    ordered = real + [c for c in failures if c.id in flaky_ids]
    line = f"{len(failures)} of {plural(total, 'test')} failed in run {run}: "
    return gate(GateStatus.FAIL, line + bounded([_named(c, flaky_ids) for c in ordered]), facts)
