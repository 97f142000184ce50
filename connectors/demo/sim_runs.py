"""The demo fleet's pipeline runs: their stages, mutable state and frozen domain views.

A run that can still change is a mutable `RunState`; once it has finished and been
observed, the fleet keeps only its frozen `PipelineRun` (at 10,000 services 90,000 of the
95,000 runs are finished history). Frozen parts that do not change are shared: a stage
that did not move since the run's last frozen view is the same `Stage` object, queued and
skipped stages are one object per stage, test summaries one per distinct count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cockpit.model import (
    PendingApproval,
    PipelineRun,
    Stage,
    Status,
    TestSummary,
)
from connectors.demo.digest import sha256_hex
from connectors.demo.make import maker

# (stage name, min ticks, max ticks, failure probability, environment it deploys to)
STAGES = (
    ("build", 6, 14, 0.02, ""),
    ("test", 8, 20, 0.10, ""),
    ("security-scan", 4, 8, 0.03, ""),
    ("deploy-dev", 3, 6, 0.0, "dev"),
    ("deploy-staging", 3, 6, 0.0, "staging"),
    ("approve-prod", 0, 0, 0.0, "prod"),
    ("deploy-prod", 3, 6, 0.0, "prod"),
)
APPROVAL_STAGE = 5
AUTHORS = ("alice", "bob", "chen", "dana", "emeka", "farah", "goran", "hana", "ivan", "jun")
MESSAGES = (
    "Fix retry storm on upstream timeout",
    "Bump base image to patch OpenSSL",
    "Add idempotency key to create endpoint",
    "Reduce p99 by caching price lookups",
    "Refactor session handling",
    "Upgrade HTTP client library",
    "Feature flag for new ranking model",
    "Tighten input validation on webhooks",
    "Log correlation ids on every request",
    "Remove deprecated v1 endpoint",
    "Tune connection pool sizes",
    "Handle partial refunds",
)

make_run = maker(PipelineRun)
make_stage = maker(Stage)
make_approval = maker(PendingApproval)
# The stages every run starts with, and those after a failure: the same objects for all.
QUEUED_STAGES = tuple(make_stage(n, Status.QUEUED, None, None, False, e) for n, *_, e in STAGES)
SKIPPED_STAGES = tuple(make_stage(n, Status.SKIPPED, None, None, False, e) for n, *_, e in STAGES)
_SUMMARIES: dict[tuple[int, int, int], TestSummary] = {}


def digest_of(service: str, version: str) -> str:
    return "sha256:" + sha256_hex(f"{service}@{version}")


def run_url(service: str, number: int) -> str:
    return f"https://ci.example/{service}/runs/{number}"


@dataclass(slots=True)
class RunState:
    """A simulated pipeline run while it moves; frozen into a PipelineRun when reported."""

    id: str
    service: str
    number: int
    author: str
    commit: str
    message: str
    version: str
    queued_at: datetime
    stage_index: int = -1  # -1 queued
    stage_status: list[Status] = field(default_factory=list)
    stage_started: list[datetime | None] = field(default_factory=list)
    stage_finished: list[datetime | None] = field(default_factory=list)
    due: int = 0  # the tick its running stage ends
    status: Status = Status.QUEUED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    tests: TestSummary | None = None
    fail_at: int = -1  # stage index that will fail, or -1
    approval: PendingApproval | None = None
    seq: int = 0  # the fleet's count of runs started before this one: the stepping order
    # digest_of(service, version), made once (`Fleet.new_run`, `thaw`): the run, its
    # deployments and its approval share the string (~120 bytes a copy, several a run)
    digest: str = ""


def summary(passed: int, failed: int, skipped: int) -> TestSummary:
    """One TestSummary object per distinct count (a few dozen for the whole fleet)."""
    key = (passed, failed, skipped)
    found = _SUMMARIES.get(key)
    if found is None:
        found = _SUMMARIES[key] = TestSummary(passed, failed, skipped)
    return found


def tests_of(run: RunState) -> TestSummary:
    total = 180 + (run.number % 7) * 23
    failed = 0 if run.fail_at != 1 else 1 + run.number % 4
    return summary(total - failed, failed, run.number % 5)


StageKey = tuple[int, Status, datetime | None, datetime | None]


def freeze_run(
    run: RunState,
    source: str,
    now: datetime,
    prev: PipelineRun | None = None,
    made: dict[StageKey, Stage] | None = None,
) -> PipelineRun:
    """The run as the domain sees it now; `prev`, its last frozen view, lends the parts
    that did not change (stages that did not move, its url). `made`: the stages frozen
    for other runs of the same observation, by (index, status, start, end), shared: runs
    that start in the same tick often move in step (a 10,000-service demo left running
    held 538,000 stages for 212,000 distinct ones, 47 MB)."""
    old = prev.stages if prev is not None else QUEUED_STAGES
    made = {} if made is None else made
    stages = []
    statuses, started, finished = run.stage_status, run.stage_started, run.stage_finished
    for i, was in enumerate(old):
        status, begun, ended = statuses[i], started[i], finished[i]
        if was.status is status and was.started_at is begun and was.finished_at is ended:
            stages.append(was)
        elif begun is None and ended is None and status is Status.SKIPPED:
            stages.append(SKIPPED_STAGES[i])
        else:
            key = (i, status, begun, ended)
            stage = made.get(key)
            if stage is None:
                name, *_, env = STAGES[i]
                stage = made[key] = make_stage(
                    name, status, begun, ended, status is Status.WAITING, env
                )
            stages.append(stage)
    return make_run(
        run.id,
        run.service,
        "release",
        run.number,
        run.status,
        tuple(stages),
        run.author,
        run.commit,
        run.message,
        "main",
        run.queued_at,
        source,
        now,
        run.started_at,
        run.finished_at,
        run.tests,
        run.version,
        run.digest,  # made once for the run (`Fleet.new_run`, `thaw`): every view shares it
        prev.url if prev is not None else run_url(run.service, run.number),
    )


def thaw(run: PipelineRun) -> RunState:
    """A finished run's state again, from its frozen view (for its documents, sim_evidence).

    Only a stage before the approval can be the one a run was set to fail at; a rejected
    run's approval stage failed too, but it had no such stage."""
    statuses = [s.status for s in run.stages]
    failed = [i for i, s in enumerate(statuses) if s is Status.FAILED and i < APPROVAL_STAGE]
    last = max((i for i, s in enumerate(run.stages) if s.started_at is not None), default=-1)
    return RunState(
        id=run.id,
        service=run.service,
        number=run.number,
        author=run.author,
        commit=run.commit,
        message=run.message,
        version=run.version,
        queued_at=run.queued_at,
        stage_index=last,
        stage_status=statuses,
        stage_started=[s.started_at for s in run.stages],
        stage_finished=[s.finished_at for s in run.stages],
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        tests=run.tests,
        fail_at=failed[0] if failed else -1,
        digest=run.digest,
    )


def approval_of(run: RunState, source: str, prod: str, now: datetime) -> PendingApproval:
    return make_approval(
        f"{source}:{run.id}",
        run.service,
        prod,
        "deployment",
        f"Deploy {run.service} {run.version} to {prod}",
        run.author,
        run.stage_started[APPROVAL_STAGE] or run.queued_at,
        source,
        now,
        run.version,
        run.digest,
        run.id,
        run.id,
    )
