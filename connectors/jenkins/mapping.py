"""Jenkins wfapi payloads -> cockpit facts: runs and stages, input steps as approvals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cockpit.model import PendingApproval, PipelineRun, Stage, Status
from connectors.jenkins.options import JenkinsOptions

Json = dict[str, Any]

STATUS = {
    "QUEUED": Status.QUEUED,
    "IN_PROGRESS": Status.RUNNING,
    "PAUSED_PENDING_INPUT": Status.WAITING,
    "SUCCESS": Status.SUCCEEDED,
    # Unstable (tests failed, build completed) is not green: a release gate must not pass it.
    "UNSTABLE": Status.FAILED,
    "FAILED": Status.FAILED,
    "ABORTED": Status.CANCELLED,
    "NOT_EXECUTED": Status.SKIPPED,
}


def millis(value: object) -> datetime | None:
    """Epoch milliseconds (Jenkins' timestamps); 0 or absent means not yet."""
    if value is None or isinstance(value, bool):
        return None
    ms = int(value)  # type: ignore[call-overload]
    return datetime.fromtimestamp(ms / 1000, UTC) if ms > 0 else None


def _required(value: object) -> datetime:
    when = millis(value)
    if when is None:
        raise ValueError("startTimeMillis is missing")
    return when


def _finished(item: Json, status: Status) -> datetime | None:
    if not status.terminal:
        return None  # endTimeMillis of a running build is not documented (UNCONFIRMED)
    start = _required(item["startTimeMillis"])
    end = millis(item.get("endTimeMillis"))
    if end is None or end < start:
        end = datetime.fromtimestamp(
            (start.timestamp() * 1000 + int(item.get("durationMillis") or 0)) / 1000, UTC
        )
    return end


def _number(run: Json) -> int:
    for text in (str(run.get("id", "")), str(run.get("name", "")).lstrip("#")):
        if text.isdigit():
            return int(text)
    return 0


@dataclass(frozen=True)
class Context:
    source: str
    now: datetime
    options: JenkinsOptions


def stage(item: Json, ctx: Context) -> Stage:
    status = STATUS.get(str(item["status"]), Status.UNKNOWN)
    return Stage(
        name=str(item["name"]),
        status=status,
        started_at=millis(item.get("startTimeMillis")) if status is not Status.SKIPPED else None,
        finished_at=_finished(item, status) if status is not Status.SKIPPED else None,
        waiting_for_approval=item["status"] == "PAUSED_PENDING_INPUT",
        environment=ctx.options.environment_in(str(item["name"])),
    )


def run(job: str, item: Json, ctx: Context, url: str) -> PipelineRun:
    status = STATUS.get(str(item["status"]), Status.UNKNOWN)
    started = _required(item["startTimeMillis"])
    queued_ms = int(item.get("queueDurationMillis") or 0)
    return PipelineRun(
        id=f"{job}#{item['id']}",
        service=ctx.options.service_of(job),
        pipeline=job,
        number=_number(item),
        status=status,
        stages=tuple(stage(s, ctx) for s in item.get("stages") or []),
        author="",  # wfapi does not say who started a build
        commit="",
        message="",
        branch="",
        queued_at=datetime.fromtimestamp(started.timestamp() - queued_ms / 1000, UTC),
        source=ctx.source,
        observed_at=ctx.now,
        started_at=started,
        finished_at=_finished(item, status),
        url=url,
    )


def _paused_since(item: Json) -> datetime | None:
    """When the paused stage began to wait: its start plus the time it ran before pausing."""
    for s in item.get("stages") or []:
        if s.get("status") == "PAUSED_PENDING_INPUT":
            start = _required(s["startTimeMillis"])
            ran = int(s.get("durationMillis") or 0) - int(s.get("pauseDurationMillis") or 0)
            return datetime.fromtimestamp(start.timestamp() + max(ran, 0) / 1000, UTC)
    return None


def approval(job: str, item: Json, pending: Json, ctx: Context) -> PendingApproval:
    """One input step waiting for a human."""
    paused = [s for s in item.get("stages") or [] if s.get("status") == "PAUSED_PENDING_INPUT"]
    stage_name = str(paused[0]["name"]) if paused else ""
    message = str(pending.get("message") or pending["id"])
    environment = ctx.options.environment_in(stage_name, message)
    remote = f"input:{job}/{item['id']}/{pending['id']}"
    return PendingApproval(
        id=f"{ctx.source}:{remote}",
        service=ctx.options.service_of(job),
        environment=environment or ctx.options.default_environment,
        kind="input",
        title=message,
        requested_by="",
        requested_at=_paused_since(item) or _required(item["startTimeMillis"]),
        source=ctx.source,
        observed_at=ctx.now,
        run_id=f"{job}#{item['id']}",
        remote_id=remote,
        required=1,
    )
