"""Per-repository fetching: which GitHub endpoints one poll reads, concurrently, cached.

Every GET is conditional (a 304 costs no rate limit), and between full checks a poll
re-reads only what can have changed: the run and deployment lists, jobs of runs whose
`updated_at` moved or that are in progress, and statuses of deployments not yet settled.
GitHub's secondary limit (900 points a minute) makes that matter for many repositories.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from cockpit.errors import Unreachable
from cockpit.http import Api
from cockpit.model import Stage
from connectors.github import mapping
from connectors.github.tasks import gather, most_telling

Json = Mapping[str, Any]
RunKey = tuple[int, int, str]  # run id, attempt, updated_at

DEPLOYMENT_PAGES = 2  # of 100; older deployments are fetched per environment if needed
HISTORY = 10  # earlier deployments kept per environment
INACTIVE_WALK = 3  # how far back to look past deployments marked inactive
FULL_CHECK = 300.0  # seconds between polls that re-read everything (still conditionally)
SETTLED = {"success", "failure", "error", "inactive"}


@dataclass
class RunFacts:
    raw: Json
    stages: tuple[Stage, ...]
    pending: Sequence[Json] = ()


@dataclass
class EnvFacts:
    name: str  # GitHub's environment name
    deployments: list[Json]  # newest first
    live: int = 0  # index of the newest deployment that is not inactive; -1: none
    status: Json | None = None  # its latest status


@dataclass
class RepoFacts:
    runs: list[RunFacts] = field(default_factory=list)
    deployments: list[EnvFacts] = field(default_factory=list)
    environments: list[Json] = field(default_factory=list)


@dataclass
class _Memory:
    """What the previous polls of one repository learnt."""

    runs: dict[RunKey, RunFacts] = field(default_factory=dict)
    statuses: dict[int, tuple[str, Json | None]] = field(default_factory=dict)
    environments: list[Json] = field(default_factory=list)
    checked_at: float | None = None  # last full check


def _list(body: object, what: str) -> list[Json]:
    if not isinstance(body, list) or not all(isinstance(x, Mapping) for x in body):
        raise Unreachable(f"{what} did not return a list of objects")
    return body


def _run_key(raw: Json) -> RunKey:
    return (int(raw["id"]), int(raw.get("run_attempt") or 1), str(raw.get("updated_at")))


def _created(item: Json) -> tuple[str, int]:
    return (str(item.get("created_at") or ""), int(item.get("id") or 0))


class Fetcher:
    """Reads one poll's worth of GitHub per repository and remembers what cannot change."""

    def __init__(
        self,
        api: Api,
        environment: Callable[[str], str],
        now: Callable[[], float],
        *,
        runs_per_repo: int,
        workflows: Sequence[str],
        branch: str,
    ) -> None:
        self.api = api
        self.environment = environment
        self.now = now
        self.runs_per_repo = runs_per_repo
        self.workflows = list(workflows)
        self.branch = branch
        self._memory: dict[str, _Memory] = {}

    async def repo(self, repo: str) -> RepoFacts:
        memory = self._memory.setdefault(repo, _Memory())
        started = self.now()
        full = memory.checked_at is None or started - memory.checked_at >= FULL_CHECK
        try:
            async with asyncio.TaskGroup() as group:
                runs = group.create_task(self.runs(repo, memory, full))
                page = group.create_task(self.deployment_pages(repo))
                if full:
                    # Protection rules change rarely: read them on full checks only.
                    envs = group.create_task(self.environments(repo))
        except BaseExceptionGroup as failures:
            raise most_telling(failures) from None
        if full:
            memory.environments = envs.result()
        deployments = await self.deployments(repo, page.result(), memory, full)
        if full:
            memory.checked_at = started
        return RepoFacts(runs.result(), deployments, memory.environments)

    # Runs, their jobs and pending reviews -----------------------------------------------
    async def runs(self, repo: str, memory: _Memory, full: bool) -> list[RunFacts]:
        params: dict[str, Any] = {"per_page": self.runs_per_repo}
        if self.branch:
            params["branch"] = self.branch
        paths = [
            f"/repos/{repo}/actions/workflows/{quote(w, safe='')}/runs" for w in self.workflows
        ]
        pages = await gather(
            self._newest_runs(p, params) for p in paths or [f"/repos/{repo}/actions/runs"]
        )
        raws = _list([r for page in pages for r in page], "workflow runs")
        raws = sorted(raws, key=_created, reverse=True)[: self.runs_per_repo]
        facts = await gather(self._run(repo, raw, memory, full) for raw in raws)
        memory.runs = {_run_key(f.raw): f for f in facts}
        return facts

    async def _newest_runs(self, path: str, params: Mapping[str, Any]) -> list[Any]:
        """The newest runs_per_repo runs, following pages if the server sends fewer."""
        runs: list[Any] = []
        async for page in self.api.pages(path, params=params, limit=self.runs_per_repo):
            chunk = page.body.get("workflow_runs") if isinstance(page.body, Mapping) else None
            if not isinstance(chunk, list):
                raise Unreachable(f"{self.api.name}: {path} did not return workflow_runs")
            runs += chunk
            if len(runs) >= self.runs_per_repo:
                break
        return runs

    async def _run(self, repo: str, raw: Json, memory: _Memory, full: bool) -> RunFacts:
        known = memory.runs.get(_run_key(raw))
        state = raw.get("status")
        # A finished run's jobs never change; an unchanged queued or waiting run's jobs
        # wait for a full check; running jobs move step by step, so they are always read.
        if known is not None and (state == "completed" or (not full and state != "in_progress")):
            return RunFacts(raw, known.stages, known.pending)
        run_id = int(raw["id"])
        jobs_path = f"/repos/{repo}/actions/runs/{run_id}/jobs"
        if state == "waiting":
            jobs, pending = await gather(
                [
                    self.api.collect(jobs_path, key="jobs", params={"per_page": 100}),
                    self.api.get(f"/repos/{repo}/actions/runs/{run_id}/pending_deployments"),
                ]
            )
            pending = _list(pending, "pending deployments")
        else:
            jobs = await self.api.collect(jobs_path, key="jobs", params={"per_page": 100})
            pending = []
        return RunFacts(raw, self._stages(_list(jobs, "jobs"), pending), pending)

    def _stages(self, jobs: list[Json], pending: list[Json]) -> tuple[Stage, ...]:
        """Jobs as stages; a job held by an environment's reviewers names that environment."""
        envs = [str((p.get("environment") or {}).get("name") or "") for p in pending]
        waiting = [j for j in jobs if j.get("status") == "waiting"]

        def target(job: Json) -> str:
            if job.get("status") != "waiting" or not envs:
                return ""
            named = [e for e in envs if e and e.lower() in str(job.get("name") or "").lower()]
            if named:
                return self.environment(named[0])
            return self.environment(envs[0]) if len(envs) == 1 and len(waiting) == 1 else ""

        return tuple(mapping.stage(job, target(job)) for job in sorted(jobs, key=_created))

    # Deployments and their latest status --------------------------------------------------
    async def deployment_pages(self, repo: str) -> tuple[list[Json], bool]:
        """The newest deployments (a few pages), and whether older ones remain unread."""
        found: list[Json] = []
        more = False
        async for page in self.api.pages(
            f"/repos/{repo}/deployments", params={"per_page": 100}, limit=DEPLOYMENT_PAGES
        ):
            found += _list(page.body, "deployments")
            more = "next" in page.links
        return found, more

    async def deployments(
        self, repo: str, page: tuple[list[Json], bool], memory: _Memory, full: bool
    ) -> list[EnvFacts]:
        listed, more = page
        by_env: dict[str, list[Json]] = {}
        for dep in listed:
            by_env.setdefault(str(dep.get("environment") or "production"), []).append(dep)
        if more:
            # A busy environment can crowd a quiet one (production) off the pages read:
            # every environment short of a full history is asked for on its own.
            names = {str(e.get("name")) for e in memory.environments} | set(by_env)
            thin = sorted(n for n in names if len(by_env.get(n, [])) <= HISTORY)
            found = await gather(self._env_deployments(repo, name) for name in thin)
            for name, deps in zip(thin, found, strict=True):
                seen = {d.get("id") for d in by_env.get(name, [])}
                by_env.setdefault(name, []).extend(d for d in deps if d.get("id") not in seen)
            by_env = {n: d for n, d in by_env.items() if d}
        envs = [
            EnvFacts(name, sorted(deps, key=_created, reverse=True)[: HISTORY + 1])
            for name, deps in by_env.items()
        ]
        known, memory.statuses = memory.statuses, {}
        await gather(self._live(repo, env, known, memory.statuses, full) for env in envs)
        return envs

    async def _env_deployments(self, repo: str, name: str) -> list[Json]:
        body = await self.api.get(
            f"/repos/{repo}/deployments", params={"environment": name, "per_page": HISTORY + 1}
        )
        return _list(body, "deployments")

    async def _live(
        self,
        repo: str,
        env: EnvFacts,
        known: dict[int, tuple[str, Json | None]],
        learnt: dict[int, tuple[str, Json | None]],
        full: bool,
    ) -> None:
        """Find the newest deployment not marked inactive, and its latest status."""
        for index, dep in enumerate(env.deployments[: INACTIVE_WALK + 1]):
            dep_id, updated = int(dep["id"]), str(dep.get("updated_at"))
            cached = known.get(dep_id)
            latest: Json | None
            if (
                not full
                and cached
                and cached[0] == updated
                and cached[1] is not None
                and (cached[1].get("state") in SETTLED)
            ):
                latest = cached[1]
            else:
                body = await self.api.get(
                    f"/repos/{repo}/deployments/{dep_id}/statuses", params={"per_page": 100}
                )
                statuses = _list(body, "deployment statuses")
                # The list order is not documented; the highest id is the latest status.
                latest = max(statuses, key=lambda s: int(s.get("id") or 0), default=None)
            learnt[dep_id] = (updated, latest)
            if latest is None or latest.get("state") != "inactive":
                env.live, env.status = index, latest
                return
        env.live = -1  # every recent deployment was taken down

    # Environments ---------------------------------------------------------------------------
    async def environments(self, repo: str) -> list[Json]:
        return _list(
            await self.api.collect(
                f"/repos/{repo}/environments", key="environments", params={"per_page": 100}
            ),
            "environments",
        )
