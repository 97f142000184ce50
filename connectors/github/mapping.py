"""GitHub REST payloads -> cockpit domain objects (pure functions, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from cockpit.model import (
    Deployment,
    Gate,
    GateStatus,
    Health,
    PendingApproval,
    PipelineRun,
    Revision,
    Stage,
    Status,
)

Json = Mapping[str, Any]

_RUNNING = {"queued": Status.QUEUED, "requested": Status.QUEUED, "pending": Status.QUEUED}
_RUNNING |= {"in_progress": Status.RUNNING, "waiting": Status.WAITING}
_CONCLUSION = {
    "success": Status.SUCCEEDED,
    "neutral": Status.SUCCEEDED,  # GitHub counts neutral as passing
    "failure": Status.FAILED,
    "timed_out": Status.FAILED,
    "startup_failure": Status.FAILED,
    "cancelled": Status.CANCELLED,
    "stale": Status.CANCELLED,
    "skipped": Status.SKIPPED,
    "action_required": Status.WAITING,
}
# Deployment status state -> (status, health); "waiting" is what GitHub reports while a
# protection rule holds the deployment (seen in GraphQL; tolerated here).
_STATE = {
    "success": (Status.SUCCEEDED, Health.HEALTHY),
    "failure": (Status.FAILED, Health.DEGRADED),
    "error": (Status.FAILED, Health.DEGRADED),
    "in_progress": (Status.RUNNING, Health.PROGRESSING),
    "queued": (Status.QUEUED, Health.PROGRESSING),
    "pending": (Status.QUEUED, Health.PROGRESSING),
    "waiting": (Status.WAITING, Health.PROGRESSING),
}
_VERSION = re.compile(r"^v?\d+(\.\d+)+([-+.][0-9A-Za-z.-]+)?$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def when(value: object) -> datetime | None:
    """GitHub's ISO-8601 timestamps ("2026-08-24T09:12:03Z"); None when absent."""
    if not value:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp, got {type(value).__name__}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return parsed


def status(state: object, conclusion: object) -> Status:
    """A run's, job's or step's status and conclusion as one Status."""
    if state == "completed":
        return _CONCLUSION.get(str(conclusion), Status.UNKNOWN)
    return _RUNNING.get(str(state), Status.UNKNOWN)


def login(user: object) -> str:
    return str(user.get("login") or "") if isinstance(user, Mapping) else ""


def version(sha: str, ref: object = None, payload: object = None) -> str:
    """A release version when one is known (payload.version, a tag ref), else the short sha."""
    if isinstance(payload, Mapping) and isinstance(payload.get("version"), str):
        return str(payload["version"])
    if isinstance(ref, str) and _VERSION.match(ref):
        return ref
    return sha[:7]


def digest(payload: object) -> str:
    """The image digest a deployment's payload names ({"digest": "sha256:<hex>"}), else ""."""
    value = payload.get("digest") if isinstance(payload, Mapping) else None
    return value if isinstance(value, str) and _DIGEST.match(value) else ""


def stage(job: Json, environment: str = "") -> Stage:
    """One job as a stage; the steps are summarised in the name where they matter."""
    state = status(job.get("status"), job.get("conclusion"))
    name = str(job.get("name") or job.get("id"))
    steps: Sequence[Json] = job.get("steps") or []
    if state is Status.RUNNING:
        current = [s for s in steps if s.get("status") == "in_progress"]
        if current:
            name += f" [step {current[0].get('number')}/{len(steps)}: {current[0].get('name')}]"
    elif state is Status.FAILED:
        failed = [s for s in steps if s.get("conclusion") in ("failure", "timed_out")]
        if failed:
            name += f" [failed: {failed[0].get('name')}]"
    return Stage(
        name=name,
        status=state,
        started_at=when(job.get("started_at")),
        finished_at=when(job.get("completed_at")),
        waiting_for_approval=job.get("status") == "waiting",
        environment=environment,
    )


def run(
    raw: Json,
    repo: str,
    service: str,
    stages: Sequence[Stage],
    *,
    source: str,
    now: datetime,
) -> PipelineRun:
    state = status(raw.get("status"), raw.get("conclusion"))
    sha = str(raw.get("head_sha") or "")
    commit: Json = raw.get("head_commit") or {}
    queued = when(raw.get("created_at"))
    if queued is None:
        raise ValueError("a workflow run without created_at")
    return PipelineRun(
        id=run_key(repo, raw["id"]),
        service=service,
        pipeline=str(raw.get("name") or raw.get("path") or "workflow"),
        number=int(raw.get("run_number") or 0),
        status=state,
        stages=tuple(stages),
        author=login(raw.get("actor")) or login(raw.get("triggering_actor")),
        commit=sha,
        message=str(commit.get("message") or raw.get("display_title") or ""),
        branch=str(raw.get("head_branch") or ""),
        queued_at=queued,
        source=source,
        observed_at=now,
        started_at=when(raw.get("run_started_at")),
        finished_at=when(raw.get("updated_at")) if raw.get("status") == "completed" else None,
        version=version(sha, raw.get("head_branch")),
        url=str(raw.get("html_url") or ""),
    )


def run_key(repo: str, run_id: int | str) -> str:
    return f"{repo}#{int(run_id)}"


def deployment(
    newest: Json,
    latest_status: Json | None,
    older: Sequence[Json],
    *,
    service: str,
    environment: str,
    source: str,
    now: datetime,
) -> Deployment:
    """The newest live deployment of one environment, earlier ones as its history."""
    state = str(latest_status.get("state")) if latest_status else "pending"
    dep_status, health = _STATE.get(state, (Status.UNKNOWN, Health.UNKNOWN))
    created = when(newest.get("created_at"))
    if created is None:
        raise ValueError("a deployment without created_at")
    message = (latest_status or {}).get("description") or newest.get("description") or ""
    return Deployment(
        service=service,
        environment=environment,
        version=version(str(newest.get("sha") or ""), newest.get("ref"), newest.get("payload")),
        digest=digest(newest.get("payload")),
        deployed_at=created,
        deployed_by=login(newest.get("creator")),
        status=dep_status,
        health=health,
        source=source,
        observed_at=now,
        history=tuple(revision(d) for d in older),
        remote_id=str(newest["id"]),
        message=str(message),
    )


def revision(raw: Json) -> Revision:
    created = when(raw.get("created_at"))
    if created is None:
        raise ValueError("a deployment without created_at")
    return Revision(
        version=version(str(raw.get("sha") or ""), raw.get("ref"), raw.get("payload")),
        digest=digest(raw.get("payload")),
        deployed_at=created,
        deployed_by=login(raw.get("creator")),
        id=str(raw["id"]),
    )


def reviewer(entry: Json) -> str:
    who: Json = entry.get("reviewer") or {}
    if entry.get("type") == "Team":
        return "team:" + str(who.get("slug") or who.get("name") or who.get("id"))
    return str(who.get("login") or who.get("id"))


def minutes(value: int) -> str:
    hours, mins = divmod(int(value), 60)
    return f"{hours}h{mins:02d}m" if hours else f"{mins}m"


def protection(env: Json) -> list[str]:
    """An environment's protection rules, in words an approver reads."""
    rules: list[str] = []
    for rule in env.get("protection_rules") or []:
        kind = rule.get("type")
        if kind == "required_reviewers":
            names = [reviewer(r) for r in rule.get("reviewers") or []]
            # GitHub needs one approval from any listed reviewer, not one from each.
            many = f"required reviewers (any 1 of {len(names)})"
            rules.append(f"{many if len(names) > 1 else 'required reviewer'}: {', '.join(names)}")
            if rule.get("prevent_self_review"):
                rules.append("prevent self-review")
        elif kind == "wait_timer":
            rules.append(f"wait timer {minutes(rule.get('wait_timer') or 0)}")
        elif kind == "branch_policy":
            policy: Json = env.get("deployment_branch_policy") or {}
            if policy.get("protected_branches"):
                rules.append("protected branches only")
            elif policy.get("custom_branch_policies"):
                rules.append("selected branches only")
        elif kind:
            rules.append(f"custom rule: {kind}")
    if env.get("can_admins_bypass") is False:
        rules.append("admins cannot bypass")
    return rules


def approval(
    pending: Json,
    run_raw: Json,
    pipeline: PipelineRun,
    repo: str,
    environment: Callable[[str], str],
    *,
    source: str,
    now: datetime,
) -> PendingApproval:
    """One environment of a waiting run that needs a reviewer."""
    env: Json = pending["environment"]
    env_id = int(env["id"])
    run_id = int(run_raw["id"])
    reviewers = [reviewer(r) for r in pending.get("reviewers") or []]
    started = when(pending.get("wait_timer_started_at"))
    waiting = [s.started_at for s in pipeline.stages if s.waiting_for_approval and s.started_at]
    requested = started or (waiting[0] if waiting else None) or pipeline.queued_at
    gates = [
        Gate(
            "GitHub reviewer",
            GateStatus.PASS if pending.get("current_user_can_approve") else GateStatus.FAIL,
            "the token's user "
            + ("is" if pending.get("current_user_can_approve") else "is not")
            + " a required reviewer"
            + (f" ({', '.join(reviewers)})" if reviewers else ""),
        )
    ]
    timer = int(pending.get("wait_timer") or 0)
    if timer:
        elapsed = started is not None and (now - started).total_seconds() >= timer * 60
        gates.append(
            Gate(
                "GitHub wait timer",
                GateStatus.PASS if elapsed else GateStatus.UNKNOWN,
                f"wait timer {minutes(timer)}"
                + (f" since {started.isoformat().replace('+00:00', 'Z')}" if started else ""),
            )
        )
    name = str(env.get("name") or env_id)
    return PendingApproval(
        id=f"{repo}/run:{run_id}/env:{env_id}",
        service=pipeline.service,
        environment=environment(name),
        kind="deployment",
        title=f"{pipeline.service}: {pipeline.pipeline} #{pipeline.number} to {name}",
        requested_by=pipeline.author,
        requested_at=requested,
        source=source,
        observed_at=now,
        version=pipeline.version,
        run_id=pipeline.id,
        remote_id=f"run:{run_id}/env:{env_id}",
        required=1 if reviewers else 0,
        gates=tuple(gates),
    )
