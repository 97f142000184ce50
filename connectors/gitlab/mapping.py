"""GitLab REST v4 payloads -> cockpit facts: runs and stages, deployments, approvals, rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit.model import Deployment, Health, PipelineRun, Revision, Stage, Status, TestSummary

Json = dict[str, Any]

# Pipeline and job statuses share one enum (app/models/concerns/ci/has_status.rb).
STATUS = {
    "created": Status.QUEUED,
    "waiting_for_resource": Status.QUEUED,
    "preparing": Status.QUEUED,
    "pending": Status.QUEUED,
    "scheduled": Status.QUEUED,  # a delayed job waiting for its timer
    "waiting_for_callback": Status.RUNNING,  # an external system is working on it
    "running": Status.RUNNING,
    "canceling": Status.RUNNING,
    "manual": Status.WAITING,
    "success": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELLED,
    "skipped": Status.SKIPPED,
}

DEPLOYMENT_STATUS = {
    "created": Status.QUEUED,
    "running": Status.RUNNING,
    "blocked": Status.WAITING,
    "success": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELLED,
    "skipped": Status.SKIPPED,
}

# GitLab knows nothing of health; the newest deployment attempt is the best signal. One
# blocked on approval is suspended: the environment waits on people, it is not done.
_HEALTH = {
    Status.SUCCEEDED: Health.HEALTHY,
    Status.RUNNING: Health.PROGRESSING,
    Status.QUEUED: Health.PROGRESSING,
    Status.WAITING: Health.SUSPENDED,
    Status.FAILED: Health.DEGRADED,
}


def ts(value: object) -> datetime | None:
    """GitLab's ISO 8601 timestamps ("2026-08-24T09:00:11.204Z"); null stays None."""
    if not value:
        return None
    when = datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {value!r}")
    return when


def required_ts(value: object) -> datetime:
    when = ts(value)
    if when is None:
        raise ValueError("a required timestamp is missing")
    return when


def short(sha: object) -> str:
    return str(sha or "")[:8]


@dataclass(frozen=True)
class Context:
    """What every mapping needs: the instance name, the time, the environment names."""

    source: str
    now: datetime
    environment: Callable[[str], str | None]  # GitLab environment name -> cockpit name
    names: frozenset[str] = frozenset()  # GitLab environment names a job name may mention


def _stage_status(jobs: Sequence[Json]) -> Status:
    statuses = [STATUS.get(j["status"], Status.UNKNOWN) for j in jobs]
    blocking_failure = any(
        s is Status.FAILED and not j.get("allow_failure")
        for s, j in zip(statuses, jobs, strict=True)
    )
    if Status.RUNNING in statuses:
        return Status.RUNNING
    if Status.QUEUED in statuses:
        started = any(s is not Status.QUEUED for s in statuses)
        return Status.RUNNING if started else Status.QUEUED
    if blocking_failure:
        return Status.FAILED
    for status in (Status.WAITING, Status.CANCELLED, Status.UNKNOWN):
        if status in statuses:
            return status
    if all(s is Status.SKIPPED for s in statuses):
        return Status.SKIPPED
    return Status.SUCCEEDED


def job_environment(job: Json, ctx: Context, deploy_jobs: Mapping[int, str]) -> str:
    """A deployment names its job's environment; failing that, the job's name may.

    "deploy_production" or "deploy:staging" mention an environment as a whole word; the
    longest name wins so "prod-eu" is not read as "prod".
    """
    if job["id"] in deploy_jobs:
        return ctx.environment(deploy_jobs[job["id"]]) or ""
    job_name = str(job.get("name", ""))
    for name in sorted(ctx.names, key=len, reverse=True):
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", job_name):
            return ctx.environment(name) or ""
    return ""


def _stage_environment(jobs: Sequence[Json], ctx: Context, deploy_jobs: Mapping[int, str]) -> str:
    """The environment a manual job waits to deploy to, else the last job's environment."""
    manual = [j for j in jobs if j["status"] == "manual"]
    for job in [*manual, *reversed(jobs)]:
        env = job_environment(job, ctx, deploy_jobs)
        if env:
            return env
    return ""


def stages(jobs: Sequence[Json], ctx: Context, deploy_jobs: Mapping[int, str]) -> tuple[Stage, ...]:
    """Jobs grouped by stage, stages in pipeline order (the order their jobs were created)."""
    grouped: dict[str, list[Json]] = {}
    for job in sorted(jobs, key=lambda j: int(j["id"])):
        grouped.setdefault(str(job["stage"]), []).append(job)
    out = []
    for name, members in grouped.items():
        status = _stage_status(members)
        starts = [t for j in members if (t := ts(j.get("started_at")))]
        ends = [t for j in members if (t := ts(j.get("finished_at")))]
        out.append(
            Stage(
                name=name,
                status=status,
                started_at=min(starts) if starts else None,
                finished_at=max(ends) if ends and status.terminal else None,
                waiting_for_approval=any(j["status"] == "manual" for j in members),
                environment=_stage_environment(members, ctx, deploy_jobs),
            )
        )
    return tuple(out)


def test_summary(summary: Json | None) -> TestSummary | None:
    """A test_report_summary's totals; errored tests count as failed. No tests: None."""
    total = (summary or {}).get("total") or {}
    if not int(total.get("count") or 0):
        return None
    return TestSummary(
        passed=int(total.get("success") or 0),
        failed=int(total.get("failed") or 0) + int(total.get("error") or 0),
        skipped=int(total.get("skipped") or 0),
    )


def run(
    project: str,
    service: str,
    pipeline: Json,
    jobs: Sequence[Json],
    ctx: Context,
    deploy_jobs: Mapping[int, str],
    tests: Json | None = None,
) -> PipelineRun:
    status = STATUS.get(pipeline["status"], Status.UNKNOWN)
    first = min(jobs, key=lambda j: int(j["id"]), default={})
    commit = first.get("commit") or {}
    starts = [t for j in jobs if (t := ts(j.get("started_at")))]
    ends = [t for j in jobs if (t := ts(j.get("finished_at")))]
    return PipelineRun(
        id=f"{project}#{pipeline['id']}",
        service=service,
        pipeline=str(pipeline.get("name") or project),
        number=int(pipeline["iid"]),
        status=status,
        stages=stages(jobs, ctx, deploy_jobs),
        author=str((first.get("user") or {}).get("username", "")),
        commit=str(pipeline["sha"]),
        message=str(commit.get("title", "")),
        branch=str(pipeline["ref"]),
        queued_at=required_ts(pipeline["created_at"]),
        source=ctx.source,
        observed_at=ctx.now,
        started_at=min(starts) if starts else None,
        finished_at=max(ends) if ends and status.terminal else None,
        tests=test_summary(tests),
        version=short(pipeline["sha"]),
        url=str(pipeline.get("web_url") or ""),
    )


def _when(dep: Json) -> datetime:
    return ts(dep.get("updated_at")) or required_ts(dep["created_at"])


def deployments(service: str, items: Sequence[Json], ctx: Context) -> list[Deployment]:
    """One Deployment per cockpit environment: the newest success, the rest as history."""
    by_env: dict[str, list[Json]] = {}
    for dep in sorted(items, key=lambda d: int(d["id"]), reverse=True):
        env = ctx.environment(str(dep["environment"]["name"]))
        if env is not None:
            by_env.setdefault(env, []).append(dep)
    out = []
    for env, deps in by_env.items():
        newest = deps[0]
        good = [d for d in deps if d["status"] == "success"]
        current = good[0] if good else newest
        status = DEPLOYMENT_STATUS.get(newest["status"], Status.UNKNOWN)
        message = ""
        if newest is not current:
            message = f"deployment {newest['id']} of {short(newest['sha'])}: {newest['status']}"
        out.append(
            Deployment(
                service=service,
                environment=env,
                version=short(current["sha"]),
                digest="",
                deployed_at=_when(current),
                deployed_by=str((current.get("user") or {}).get("username", "")),
                status=status,
                health=_HEALTH.get(status, Health.HEALTHY if good else Health.UNKNOWN),
                source=ctx.source,
                observed_at=ctx.now,
                history=tuple(
                    Revision(
                        version=short(d["sha"]),
                        digest="",
                        deployed_at=_when(d),
                        deployed_by=str((d.get("user") or {}).get("username", "")),
                        id=str(d["id"]),
                    )
                    for d in good
                    if d is not current
                ),
                remote_id=f"deployment:{current['id']}",
                message=message,
            )
        )
    return out
