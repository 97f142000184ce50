"""The demo fleet's pipeline runs: their stages, mutable state and frozen domain views."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from cockpit.model import (
    PendingApproval,
    PipelineRun,
    Stage,
    Status,
    TestSummary,
)

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


def digest_of(service: str, version: str) -> str:
    return "sha256:" + hashlib.sha256(f"{service}@{version}".encode()).hexdigest()


@dataclass(slots=True)
class RunState:
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
    ticks_left: int = 0
    status: Status = Status.QUEUED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    tests: TestSummary | None = None
    fail_at: int = -1  # stage index that will fail, or -1
    frozen: PipelineRun | None = None
    approval: PendingApproval | None = None


def tests_of(run: RunState) -> TestSummary:
    total = 180 + (run.number % 7) * 23
    failed = 0 if run.fail_at != 1 else 1 + run.number % 4
    return TestSummary(passed=total - failed, failed=failed, skipped=run.number % 5)


def freeze_run(run: RunState, source: str, now: datetime) -> PipelineRun:
    """The run as the domain sees it, rebuilt only after the state changed."""
    if run.frozen is None:
        run.frozen = PipelineRun(
            id=run.id,
            service=run.service,
            pipeline="release",
            number=run.number,
            status=run.status,
            stages=tuple(
                Stage(
                    name=STAGES[i][0],
                    status=run.stage_status[i],
                    started_at=run.stage_started[i],
                    finished_at=run.stage_finished[i],
                    waiting_for_approval=run.stage_status[i] is Status.WAITING,
                    environment=STAGES[i][4],
                )
                for i in range(len(STAGES))
            ),
            author=run.author,
            commit=run.commit,
            message=run.message,
            branch="main",
            queued_at=run.queued_at,
            source=source,
            observed_at=now,
            started_at=run.started_at,
            finished_at=run.finished_at,
            tests=run.tests,
            version=run.version,
            digest=digest_of(run.service, run.version),
            url=f"https://ci.example/{run.service}/runs/{run.number}",
        )
    return run.frozen


def approval_of(run: RunState, source: str, prod: str, now: datetime) -> PendingApproval:
    return PendingApproval(
        id=f"{source}:{run.id}",
        service=run.service,
        environment=prod,
        kind="deployment",
        title=f"Deploy {run.service} {run.version} to {prod}",
        requested_by=run.author,
        requested_at=run.stage_started[APPROVAL_STAGE] or run.queued_at,
        source=source,
        observed_at=now,
        version=run.version,
        digest=digest_of(run.service, run.version),
        run_id=run.id,
        remote_id=run.id,
    )
