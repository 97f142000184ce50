"""What a pipeline run's test reports say, for its detail view: failing tests and flaky ones.

Reads the run's JUnit/GitLab/Jenkins documents from the fleet snapshot through the tests
evaluators (`cockpit.supply.tests_report`, `cockpit.supply.flaky`), loaded on the first
run opened, never at start-up. Results are cached by the documents they rest on, so a
refresh that changed nothing parses nothing again. Every name is clean, bounded text.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Evidence, EvidenceKind, PipelineRun
from cockpit.sanitize import clean

SHOWN = 10  # failing tests named in the detail before "+N more"
CACHE_SIZE = 64
DEFAULT_WINDOW = 10


@dataclass(frozen=True)
class FailingTest:
    id: str  # "classname::name", clean
    message: str  # first line of the failure, clean and bounded
    flaky: bool  # known-flaky in the service's recent runs


@dataclass(frozen=True)
class RunTests:
    """A run's tests as its newest report tells them, with the service's flaky tests."""

    report: str = ""  # "JUnit XML, attempt 2": which document this is
    total: int = 0
    failed: int = 0
    failing: tuple[FailingTest, ...] = ()  # at most SHOWN
    more: int = 0  # failing tests past SHOWN
    flaky: tuple[str, ...] = ()  # the service's known-flaky test ids in the window
    window: int = DEFAULT_WINDOW
    problem: str = ""  # the report could not be read: why


_cache: OrderedDict[Hashable, RunTests] = OrderedDict()


def _key(e: Evidence) -> Hashable:
    return (e.source, e.ref, e.run_id, e.attempt, e.problem, e.packed)


def run_tests(
    snapshot: FleetSnapshot, run: PipelineRun, window: int = DEFAULT_WINDOW
) -> RunTests | None:
    """The run's tests from its reports, or None when no report names this run."""
    mine = [
        e
        for e in snapshot.evidence_for(run.service, run.version, EvidenceKind.TESTS)
        if e.run_id == run.id
    ]
    if not mine:
        return None
    newest = max(mine, key=lambda e: e.attempt)
    history = snapshot.evidence_history(run.service, EvidenceKind.TESTS)[: 4 * window]
    key = (window, _key(newest), *map(_key, history))
    found = _cache.get(key)
    if found is None:
        found = _read(newest, history, window)
        _cache[key] = found
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return found


def _read(newest: Evidence, history: tuple[Evidence, ...], window: int) -> RunTests:
    try:
        from cockpit.supply import flaky, tests_report

        if newest.problem:
            return RunTests(problem=clean(f"fetch failed: {newest.problem}", limit=200))
        report = tests_report.parse_tests(newest)
        known = {f.id for f in flaky.flaky_tests(history, window)}
    except Exception as exc:  # an unreadable report is said, never a crash of the view
        return RunTests(problem=clean(f"{type(exc).__name__}: {exc}", limit=200))
    failing = [
        FailingTest(clean(c.id, limit=160), clean(c.message, limit=160), c.id in known)
        for c in report.failures
    ]
    label = report.format or "test report"
    if newest.attempt > 1:
        label += f", attempt {newest.attempt}"
    return RunTests(
        report=clean(label, limit=80),
        total=report.total,
        failed=report.failed + report.errors,
        failing=tuple(failing[:SHOWN]),
        more=max(len(failing) - SHOWN, 0),
        flaky=tuple(sorted(clean(i, limit=160) for i in known)),
        window=window,
    )
