"""Per-repository fetching: which GitHub endpoints one poll reads, concurrently, cached."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from cockpit.errors import ConnectorError, RateLimited, Unauthorized, Unreachable
from cockpit.http import Api
from cockpit.model import Stage
from connectors.github import mapping

T = TypeVar("T")
Json = Mapping[str, Any]

DEPLOYMENT_PAGES = 2  # of 100; older deployments are fetched per environment if needed
HISTORY = 10  # earlier deployments kept per environment
INACTIVE_WALK = 3  # how far back to look past deployments marked inactive


@dataclass
class RunFacts:
    raw: Json
    stages: tuple[Stage, ...]
    pending: Sequence[Json] = ()


@dataclass
class EnvFacts:
    name: str  # GitHub's environment name
    deployments: list[Json]  # newest first
    live: int = 0  # index of the newest deployment that is not inactive
    status: Json | None = None  # its latest status


@dataclass
class RepoFacts:
    runs: list[RunFacts] = field(default_factory=list)
    deployments: list[EnvFacts] = field(default_factory=list)
    environments: list[Json] = field(default_factory=list)


async def gather(coros: Iterable[Awaitable[T]]) -> list[T]:
    """Run concurrently; on failure cancel the rest and raise the most telling error."""
    tasks: list[asyncio.Task[T]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_wrap(c)) for c in coros]
    except BaseExceptionGroup as failures:
        raise _most_telling(failures) from None
    return [t.result() for t in tasks]


async def _wrap(aw: Awaitable[T]) -> T:
    return await aw


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


def _most_telling(group: BaseExceptionGroup[BaseException]) -> BaseException:
    # A rate limit or refused token explains every other failure of the same poll.
    leaves = _leaves(group)
    for kind in (RateLimited, Unauthorized, ConnectorError):
        for exc in leaves:
            if isinstance(exc, kind):
                return exc
    return leaves[0]


def _list(body: object, what: str) -> list[Json]:
    if not isinstance(body, list) or not all(isinstance(x, Mapping) for x in body):
        raise Unreachable(f"{what} did not return a list of objects")
    return body


def _run_key(raw: Json) -> tuple[int, int, str]:
    return (int(raw["id"]), int(raw.get("run_attempt") or 1), str(raw.get("updated_at")))


def _created(item: Json) -> tuple[str, int]:
    return (str(item.get("created_at") or ""), int(item.get("id") or 0))


class Fetcher:
    """Reads one poll's worth of GitHub for a repository; remembers finished runs' jobs."""

    def __init__(
        self,
        api: Api,
        environment: Callable[[str], str],
        *,
        runs_per_repo: int,
        workflows: Sequence[str],
        branch: str,
    ) -> None:
        self.api = api
        self.environment = environment
        self.runs_per_repo = runs_per_repo
        self.workflows = list(workflows)
        self.branch = branch
        # repo -> (run id, attempt, updated_at) -> stages: a finished run's jobs never change.
        self._finished: dict[str, dict[tuple[int, int, str], tuple[Stage, ...]]] = {}

    async def repo(self, repo: str) -> RepoFacts:
        try:
            async with asyncio.TaskGroup() as group:
                runs = group.create_task(self.runs(repo))
                page = group.create_task(self.deployment_pages(repo))
                environments = group.create_task(self.environments(repo))
        except BaseExceptionGroup as failures:
            raise _most_telling(failures) from None
        envs = await self.deployments(repo, page.result(), environments.result())
        return RepoFacts(runs.result(), envs, environments.result())

    # Runs, their jobs and pending reviews -----------------------------------------------
    async def runs(self, repo: str) -> list[RunFacts]:
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
        finished = self._finished.setdefault(repo, {})
        facts = await gather(self._run(repo, raw, finished) for raw in raws)
        keep = {_run_key(f.raw) for f in facts}
        self._finished[repo] = {k: v for k, v in finished.items() if k in keep}
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

    async def _run(
        self, repo: str, raw: Json, finished: dict[tuple[int, int, str], tuple[Stage, ...]]
    ) -> RunFacts:
        run_id = int(raw["id"])
        key = _run_key(raw)
        done = raw.get("status") == "completed"
        if done and key in finished:
            return RunFacts(raw, finished[key])
        jobs_path = f"/repos/{repo}/actions/runs/{run_id}/jobs"
        if raw.get("status") == "waiting":
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
        stages = self._stages(_list(jobs, "jobs"), pending)
        if done:
            finished[key] = stages
        return RunFacts(raw, stages, pending)

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

        ordered = sorted(
            jobs, key=lambda j: (str(j.get("created_at") or ""), int(j.get("id") or 0))
        )
        return tuple(mapping.stage(job, target(job)) for job in ordered)

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
        self, repo: str, page: tuple[list[Json], bool], environments: list[Json]
    ) -> list[EnvFacts]:
        listed, more = page
        by_env: dict[str, list[Json]] = {}
        for dep in listed:
            by_env.setdefault(str(dep.get("environment") or "production"), []).append(dep)
        if more:
            # A busy environment can crowd a quiet one (production) off the pages read:
            # every environment short of a full history is asked for on its own.
            names = {str(e.get("name")) for e in environments} | set(by_env)
            thin = sorted(n for n in names if len(by_env.get(n, [])) <= HISTORY)
            found = await gather(self._env_deployments(repo, name) for name in thin)
            for name, deps in zip(thin, found, strict=True):
                known = {d.get("id") for d in by_env.get(name, [])}
                by_env.setdefault(name, []).extend(d for d in deps if d.get("id") not in known)
            by_env = {n: d for n, d in by_env.items() if d}
        envs = [
            EnvFacts(name, sorted(deps, key=_created, reverse=True)[: HISTORY + 1])
            for name, deps in by_env.items()
        ]
        await gather(self._live(repo, env) for env in envs)
        return envs

    async def _env_deployments(self, repo: str, name: str) -> list[Json]:
        body = await self.api.get(
            f"/repos/{repo}/deployments", params={"environment": name, "per_page": HISTORY + 1}
        )
        return _list(body, "deployments")

    async def _live(self, repo: str, env: EnvFacts) -> None:
        """Find the newest deployment not marked inactive, and its latest status."""
        for index, dep in enumerate(env.deployments[: INACTIVE_WALK + 1]):
            body = await self.api.get(
                f"/repos/{repo}/deployments/{int(dep['id'])}/statuses", params={"per_page": 100}
            )
            statuses = _list(body, "deployment statuses")
            # The list order is not documented; the highest id is the latest status.
            latest = max(statuses, key=lambda s: int(s.get("id") or 0), default=None)
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
