"""GitHub's side of actions: approving or rejecting an environment review, re-running a run."""

from __future__ import annotations

import re
from collections.abc import Mapping

from cockpit.connect.http import Api
from cockpit.errors import Rejected
from cockpit.model import Action, ActionKind, ActionResult, Observation
from cockpit.sanitize import clean
from connectors.github.options import GitHubOptions

_APPROVAL_ID = re.compile(r"^(?P<repo>[^/\s]+/[^/\s]+)/run:(?P<run>\d+)/env:(?P<env>\d+)$")
_REMOTE_ID = re.compile(r"^run:(?P<run>\d+)/env:(?P<env>\d+)$")
_RUN_REF = re.compile(r"^(?:(?P<repo>[^/\s#]+/[^/\s#]+)#|run:)?(?P<run>\d+)$")


class ReviewsAndReruns:
    """The GitHub connector's `execute`: only on the repositories it was configured for."""

    name: str
    api: Api
    options: GitHubOptions
    _last: Observation | None  # the last poll: a pending review's ids, from its remote id

    async def execute(self, action: Action) -> ActionResult:
        if action.kind in (ActionKind.APPROVE, ActionKind.REJECT):
            return await self._review(action)
        if action.kind is ActionKind.RERUN:
            return await self._rerun(action)
        raise Rejected(f"{self.name} cannot {action.kind.value}")

    async def _review(self, action: Action) -> ActionResult:
        repo, run_id, env_id = self._review_target(action)
        if not action.reason.strip():
            raise Rejected("GitHub records a review comment: a reason is required")
        state = "approved" if action.kind is ActionKind.APPROVE else "rejected"
        path = f"/repos/{repo}/actions/runs/{run_id}/pending_deployments"
        sent = {"environment_ids": [env_id], "state": state, "comment": action.reason}
        body = (await self.api.request("POST", path, json_body=sent)).body
        made_ids = (
            [d.get("id") for d in body if isinstance(d, Mapping)] if isinstance(body, list) else []
        )
        ids = [str(i) for i in made_ids if isinstance(i, int)]
        created = f"; deployment {', '.join(ids)}" if ids else ""
        return ActionResult(
            True,
            f"{state} {repo} run {run_id} for environment {env_id}{created}",
            remote_id=f"run:{run_id}/env:{env_id}",
        )

    async def _rerun(self, action: Action) -> ActionResult:
        repo, run_id = self._run_target(action)
        await self.api.request("POST", f"/repos/{repo}/actions/runs/{run_id}/rerun-failed-jobs")
        return ActionResult(
            True, f"re-running the failed jobs of {repo} run {run_id}", remote_id=f"run:{run_id}"
        )

    def _review_target(self, action: Action) -> tuple[str, int, int]:
        match = _APPROVAL_ID.match(action.approval_id)
        if match is None and self._last is not None:
            # Only the remote id given: find the pending approval it belongs to.
            for pending in self._last.approvals:
                if action.remote_id and pending.remote_id == action.remote_id:
                    match = _APPROVAL_ID.match(pending.id)
                    break
        if match is None:
            remote = _REMOTE_ID.match(action.remote_id)
            repo = self._repo_of(action.service)
            if remote is None or repo is None:
                raise Rejected(
                    f"{self.name}: cannot tell which run and environment to review "
                    f"({clean(action.approval_id or action.remote_id, limit=80)!r})"
                )
            return repo, int(remote["run"]), int(remote["env"])
        self._watched(match["repo"])
        return match["repo"], int(match["run"]), int(match["env"])

    def _run_target(self, action: Action) -> tuple[str, int]:
        match = _RUN_REF.match(action.remote_id)
        if match is None:
            raise Rejected(
                f"{self.name}: re-run needs the run id ({clean(action.remote_id, limit=80)!r})"
            )
        repo = match["repo"] or self._repo_of(action.service)
        if repo is None:
            raise Rejected(f"{self.name}: no single repository serves {clean(action.service)!r}")
        self._watched(repo)
        return repo, int(match["run"])

    def _repo_of(self, service: str) -> str | None:
        repos = [r.repo for r in self.options.repositories if self.options.service(r) == service]
        return repos[0] if len(repos) == 1 else None

    def _watched(self, repo: str) -> None:
        # Never act on a repository this instance was not configured for.
        if repo.lower() not in {r.repo.lower() for r in self.options.repositories}:
            raise Rejected(f"{self.name}: {clean(repo, limit=80)} is not a watched repository")
