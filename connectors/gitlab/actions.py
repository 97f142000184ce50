"""GitLab actions: deployment approvals, playing a manual job (promote), retrying (rerun).

Each sends exactly the documented request and answers with the remote id of what it acted
on ("deployment:<id>", "job:<id>", "pipeline:<id>"), so the cockpit's audit record and
GitLab's own trail can be joined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cockpit.errors import Rejected
from cockpit.model import Action, ActionKind, ActionResult
from cockpit.sanitize import clean
from connectors.gitlab.fetch import project_path
from connectors.gitlab.mapping import Context, Json, job_environment, short

if TYPE_CHECKING:
    from connectors.gitlab.connector import GitLabConnector


@dataclass(frozen=True)
class ManualJob:
    """A manual job awaiting play, as the last poll saw it."""

    project: str
    job_id: int
    name: str
    environment: str
    version: str


@dataclass
class Seen:
    """Which project each id belongs to, and the manual jobs, as of the last poll."""

    ids: dict[str, dict[str, set[int]]] = field(default_factory=dict)  # project -> kind -> ids
    manual: dict[str, list[ManualJob]] = field(default_factory=dict)  # newest pipeline first

    def remember_runs(
        self,
        project: str,
        pipelines: Sequence[tuple[Json, Sequence[Json]]],
        ctx: Context,
        deploy_jobs: Mapping[int, str],
    ) -> None:
        known = self.ids.setdefault(project, {})
        known["pipeline"] = {int(p["id"]) for p, _ in pipelines}
        known["job"] = {int(j["id"]) for _, jobs in pipelines for j in jobs}
        self.manual[project] = [
            ManualJob(
                project,
                int(j["id"]),
                str(j["name"]),
                job_environment(j, ctx, deploy_jobs),
                short(p["sha"]),
            )
            for p, jobs in sorted(pipelines, key=lambda pj: -int(pj[0]["id"]))
            for j in jobs
            if j["status"] == "manual"
        ]

    def remember_deployments(self, project: str, deployments: Sequence[Json]) -> None:
        self.ids.setdefault(project, {})["deployment"] = {int(d["id"]) for d in deployments}

    def project_of(self, kind: str, remote: int) -> str | None:
        for project, known in self.ids.items():
            if remote in known.get(kind, ()):
                return project
        return None


def remote(value: str, kind: str) -> int | None:
    """The number in "<kind>:<number>", or None."""
    prefix, _, number = value.rpartition(":")
    if prefix.rsplit(":", 1)[-1] == kind and number.isdigit():
        return int(number)
    return None


def _project(c: GitLabConnector, kind: str, number: int, service: str) -> str:
    found = c.seen.project_of(kind, number)
    if found:
        return found
    candidates = [p.project for p in c.options.projects if c.options.service_of(p) == service]
    if len(candidates) != 1:
        raise Rejected(f"{c.name}: cannot tell which project {kind} {number} belongs to")
    return candidates[0]


async def _post(c: GitLabConnector, path: str, body: Any = None) -> Json:
    resp = await c.api.request("POST", path, json_body=body, conditional=False)
    return resp.body if isinstance(resp.body, dict) else {}


async def execute(c: GitLabConnector, action: Action) -> ActionResult:
    if action.kind in (ActionKind.APPROVE, ActionKind.REJECT):
        return await _review(c, action)
    if action.kind is ActionKind.PROMOTE:
        return await _play(c, action)
    if action.kind is ActionKind.RERUN:
        return await _retry(c, action)
    raise Rejected(f"{c.name}: the GitLab connector cannot {action.kind.value}")


async def _review(c: GitLabConnector, action: Action) -> ActionResult:
    """POST /projects/:id/deployments/:deployment_id/approval {status, comment}."""
    approve = action.kind is ActionKind.APPROVE
    number = remote(action.remote_id, "deployment") or remote(action.approval_id, "deployment")
    if number is None:
        raise Rejected(f"{c.name}: {action.kind.value} needs the deployment ('deployment:<id>')")
    project = _project(c, "deployment", number, action.service)
    body = {"status": "approved" if approve else "rejected"}
    if action.reason:
        body["comment"] = action.reason
    if action.param("represented_as"):
        body["represented_as"] = action.param("represented_as")
    await _post(c, f"{project_path(project)}/deployments/{number}/approval", body)
    verb = "approved" if approve else "rejected"
    return ActionResult(True, f"{verb} deployment {number} of {project}", f"deployment:{number}")


async def _play(c: GitLabConnector, action: Action) -> ActionResult:
    """POST /projects/:id/jobs/:job_id/play: the manual deploy job of the target environment."""
    number = remote(action.remote_id, "job")
    if number is not None:
        project = _project(c, "job", number, action.service)
    else:
        job = _waiting_job(c, action)
        project, number = job.project, job.job_id
    job_after = await _post(c, f"{project_path(project)}/jobs/{number}/play")
    name = clean(job_after.get("name", ""), limit=80)
    status = clean(job_after.get("status", "started"), limit=40)
    return ActionResult(
        True, f"played {name} (job {number}) of {project}: {status}", f"job:{number}"
    )


def _waiting_job(c: GitLabConnector, action: Action) -> ManualJob:
    """Without a job id: the newest manual job deploying the service to the environment."""
    projects = [p.project for p in c.options.projects if c.options.service_of(p) == action.service]
    for project in projects:
        for job in c.seen.manual.get(project, []):
            if job.environment != action.environment:
                continue
            if action.version and job.version != action.version[:8]:
                continue
            return job
    wanted = f"{action.service} {action.version}".strip()
    raise Rejected(f"{c.name}: no manual job waits to deploy {wanted} to {action.environment}")


async def _retry(c: GitLabConnector, action: Action) -> ActionResult:
    """POST .../jobs/:job_id/retry (a new job) or .../pipelines/:pipeline_id/retry."""
    rid = action.remote_id
    job = remote(rid, "job")
    if job is not None:
        project = _project(c, "job", job, action.service)
        new = await _post(c, f"{project_path(project)}/jobs/{job}/retry")
        again = new.get("id", job)
        return ActionResult(True, f"retried job {job} of {project} as job {again}", f"job:{again}")
    pipeline = remote(rid, "pipeline")
    if pipeline is not None:
        project = _project(c, "pipeline", pipeline, action.service)
    else:
        project, _, number = rid.rpartition("#")  # a run id: "group/project#<pipeline id>"
        if not number.isdigit() or project not in {p.project for p in c.options.projects}:
            raise Rejected(
                f"{c.name}: rerun needs a run id ('group/project#<pipeline id>'), "
                "'pipeline:<id>' or 'job:<id>'"
            )
        pipeline = int(number)
    await _post(c, f"{project_path(project)}/pipelines/{pipeline}/retry")
    return ActionResult(True, f"retried pipeline {pipeline} of {project}", f"pipeline:{pipeline}")
