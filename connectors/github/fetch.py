"""Which GitHub endpoints one poll reads, in two rounds, concurrently, cached.

Round one is every repository's runs list (REST, conditional: a 304 costs no rate limit)
and, beside them, one GraphQL query with every repository's deployments and their latest
statuses: enough for a first frame (an early one parses only each list's newest runs,
`runs_list`; round two parses them whole). On full checks the environments' protection rules
(which need nothing from round one) are asked in round one too, queued behind the runs
lists so they use the slots those leave free (except before an early first frame, which
would pay for them). Round two reads the jobs of runs not finished, of runs that failed
and of the newest run of each version, and the pending deployments of waiting runs: in
GraphQL queries for all repositories at once (`checks`), except runs in progress, whose
jobs move step by step and are read through REST, conditionally. The jobs of other
finished runs (shown only in a run's detail pane) follow in later polls at up to
BACKFILL_RATE a second. Between full checks round two re-reads only jobs of runs whose
`updated_at` moved or that are in progress. GitHub's secondary limit (900 points a
minute) makes that matter for many repositories.
"""

from __future__ import annotations

import asyncio
import functools
import types
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from cockpit.connect.http import Api
from cockpit.connect.http_json import LazyJson
from cockpit.errors import Unreachable
from cockpit.model import Stage, Status
from cockpit.sanitize import clean
from connectors.github import checks, mapping
from connectors.github.checks import Checks
from connectors.github.deployments import Deployments, EnvFacts, created, list_of
from connectors.github.runs_list import RunPages, runs_of
from connectors.github.tasks import gather, most_telling

Json = Mapping[str, Any]
RunKey = tuple[int, int, str]  # run id, attempt, updated_at
T = TypeVar("T")

FULL_CHECK = 300.0  # seconds between polls that re-read everything (still conditionally)
BACKFILL_RATE = 5.0  # deferred job reads a second: a third of the secondary limit


@dataclass
class RunFacts:
    raw: Json
    stages: tuple[Stage, ...]
    pending: Sequence[Json] = ()
    deferred: bool = False  # a finished run whose jobs are not read yet
    read: str = ""  # while a poll plans: "rest" or "graphql" when its jobs are to be read


@dataclass
class RepoFacts:
    runs: list[RunFacts] = field(default_factory=list)
    deployments: list[EnvFacts] = field(default_factory=list)
    environments: list[Json] = field(default_factory=list)


@dataclass(frozen=True)
class Lists:
    """The first round's answers: runs (REST) and deployments (GraphQL) per repository."""

    pages: dict[str, RunPages]  # parsed whole, except before an early frame
    deployments: dict[str, list[EnvFacts]]
    # Full checks' environment reads, started in round one; `details` awaits them.
    environments: dict[str, asyncio.Task[list[Json]]] = field(default_factory=dict)

    def runs(self, repo: str) -> list[Json]:
        """A repository's newest runs_per_repo runs, newest first."""
        return self.pages[repo].whole()

    def close(self) -> None:
        """Stop environment reads no repository's details took (a poll that failed)."""
        for task in self.environments.values():
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # retrieved: the poll's own failure is the one reported


@dataclass
class _Memory:
    """What the previous polls of one repository learnt."""

    runs: dict[RunKey, RunFacts] = field(default_factory=dict)
    environments: list[Json] = field(default_factory=list)
    checked_at: float | None = None  # last full check


def _run_key(raw: Json) -> RunKey:
    return (int(raw["id"]), int(raw.get("run_attempt") or 1), str(raw.get("updated_at")))


class Fetcher:
    """Reads one poll's worth of GitHub per repository and remembers what cannot change."""

    def __init__(
        self,
        api: Api,
        graph: Api,
        environment: Callable[[str], str],
        now: Callable[[], float],
        *,
        runs_per_repo: int,
        workflows: Sequence[str],
        branch: str,
        backfill_cap: int,
    ) -> None:
        self.api = api
        self.environment = environment
        self.now = now
        self.runs_per_repo = runs_per_repo
        self.workflows = list(workflows)
        self.branch = branch
        self.backfill_cap = backfill_cap  # deferred reads per poll: one round trip's worth
        self.backlog = 0  # finished runs whose jobs are still to be read
        self._backfill_from: float | None = None
        self.deploys = Deployments(graph)
        self.checks = Checks(graph)
        self._memory: dict[str, _Memory] = {}

    async def lists(self, repos: Sequence[str], *, early: bool = False) -> Lists:
        """The first round: every repository's runs list (REST) and, in one GraphQL query
        beside them, every repository's deployments with their latest statuses. Repositories
        due a full check have their environments asked too, after the runs lists (so these
        take the free slots first), without this round waiting for them; except for an
        `early` frame, which would pay for sending them (and reading any that answer in
        time) out of its own time: the second round asks for them then."""
        environments: dict[str, asyncio.Task[list[Json]]] = {}
        try:
            async with asyncio.TaskGroup() as group:
                deployments = group.create_task(self.deploys.read(repos))
                runs = [group.create_task(self._run_list(r)) for r in repos]
                now = self.now()
                for repo in repos if not early else ():
                    if self._full(self._memory.setdefault(repo, _Memory()), now):
                        environments[repo] = asyncio.create_task(self._environments_after(repo))
        except BaseExceptionGroup as failures:
            Lists({}, {}, environments).close()
            raise most_telling(failures) from None
        lists = Lists(
            {r: t.result() for r, t in zip(repos, runs, strict=True)},
            deployments.result(),
            environments,
        )
        if not early:  # parsed whole now, so a malformed list fails this round
            try:
                for repo in repos:
                    lists.runs(repo)
            except BaseException:
                lists.close()
                raise
        return lists

    @staticmethod
    def _full(memory: _Memory, now: float) -> bool:
        return memory.checked_at is None or now - memory.checked_at >= FULL_CHECK

    def known(self, repo: str, lists: Lists, *, newest: int | None = None) -> RepoFacts:
        """What the lists and earlier polls tell without another request: the runs' jobs
        and reviews only where remembered, protection rules as last read. With `newest`,
        only the `newest` most recent runs (an early frame's: parsing and mapping every run
        of long lists would cost the frame more than a round trip; `RunPages.newest`)."""
        memory = self._memory.setdefault(repo, _Memory())
        pages = lists.pages[repo]
        raws = pages.whole() if newest is None else pages.newest(newest)
        runs = []
        for raw in raws:
            seen = memory.runs.get(_run_key(raw))
            runs.append(RunFacts(raw, seen.stages, seen.pending) if seen else RunFacts(raw, ()))
        return RepoFacts(runs, lists.deployments.get(repo, []), memory.environments)

    async def details(self, repos: Sequence[str], lists: Lists) -> list[RepoFacts]:
        """The second round for every repository at once: the jobs and pending reviews of
        the runs that need them (through GraphQL, few queries for runs of any repositories,
        except runs in progress: REST, conditional, as they move step by step), and on
        full checks the environments' protection rules (REST: GraphQL's Environment has
        neither the branch policy nor the admin bypass)."""
        started = self.now()
        plans: list[tuple[str, _Memory, bool, list[RunFacts]]] = []
        graph: list[tuple[str, RunFacts]] = []
        rest: list[tuple[str, RunFacts]] = []
        for repo in repos:
            memory = self._memory.setdefault(repo, _Memory())
            full = repo in lists.environments or self._full(memory, started)
            facts = self._named(repo, self._plan, lists.runs(repo), memory, full)
            plans.append((repo, memory, full, facts))
            for run in facts:
                if run.read == "graphql":
                    graph.append((repo, run))
                elif run.read == "rest":
                    rest.append((repo, run))
        envs: dict[str, asyncio.Task[list[Json]]] = {}
        try:
            async with asyncio.TaskGroup() as group:
                answers = group.create_task(self.checks.read([(r, f.raw) for r, f in graph]))
                for repo, run in rest:
                    group.create_task(self._read(repo, run))
                for repo, _, full, _ in plans:
                    if full:  # protection rules change rarely: read on full checks only
                        asked = lists.environments.get(repo)  # started in round one
                        envs[repo] = group.create_task(_awaited(asked or self.environments(repo)))
        except BaseExceptionGroup as failures:
            raise most_telling(failures) from None
        # What GraphQL could not tell whole (more jobs than asked, ...) REST reads.
        later = []
        for (repo, run), found in zip(graph, answers.result(), strict=True):
            if found is None:
                later.append(self._read(repo, run))
            else:
                run.stages = self._named(repo, self._stages, found.jobs, found.pending)
                run.pending = found.pending
        await gather(later)
        out = []
        for repo, memory, _, facts in plans:
            for run in facts:
                run.read = ""
            memory.runs = {_run_key(f.raw): f for f in facts if not f.deferred}
            if repo in envs:
                memory.environments = envs[repo].result()
                memory.checked_at = started
            out.append(RepoFacts(facts, lists.deployments.get(repo, []), memory.environments))
        return out

    # Runs, their jobs and pending reviews -----------------------------------------------
    async def _run_list(self, repo: str) -> RunPages:
        params: dict[str, Any] = {"per_page": self.runs_per_repo}
        if self.branch:
            params["branch"] = self.branch
        paths = [
            f"/repos/{repo}/actions/workflows/{quote(w, safe='')}/runs" for w in self.workflows
        ]
        if len(paths) > 1:
            pages = await gather(self._newest_runs(p, params) for p in paths)
        else:  # one list: no task in between, so it queues for its slot at once
            pages = [await self._newest_runs((paths or [f"/repos/{repo}/actions/runs"])[0], params)]
        return RunPages(self.api, self.runs_per_repo, [page for one in pages for page in one])

    def _plan(self, raws: list[Json], memory: _Memory, full: bool) -> list[RunFacts]:
        """Each run as remembered, deferred, or to be read (`read`: "rest" or "graphql")."""
        # Runs read at once even when finished: those seen before, and the newest run
        # of each version (the pipeline gate judges a version by it).
        at_once = {key[0] for key in memory.runs}
        versions: set[str] = set()
        for raw in raws:
            version = mapping.version(str(raw.get("head_sha") or ""), raw.get("head_branch"))
            if version not in versions:
                versions.add(version)
                at_once.add(int(raw["id"]))
        return [self._planned(raw, memory, full, at_once) for raw in raws]

    @staticmethod
    def _planned(raw: Json, memory: _Memory, full: bool, at_once: set[int]) -> RunFacts:
        known = memory.runs.get(_run_key(raw))
        state = raw.get("status")
        # A finished run's jobs never change; an unchanged queued or waiting run's jobs
        # wait for a full check; running jobs move step by step, so they are always read.
        if known is not None and (state == "completed" or (not full and state != "in_progress")):
            return RunFacts(raw, known.stages, known.pending)
        failed = mapping.status(state, raw.get("conclusion")) is Status.FAILED
        if state == "completed" and not failed and int(raw["id"]) not in at_once:
            # A finished run a newer one of its version supersedes: only its detail pane
            # shows these stages (a failed one's show in the runs list), so read them later.
            return RunFacts(raw, (), deferred=True)
        # In progress: REST, whose ETag makes the next polls' reads free while nothing moves.
        rest = state == "in_progress" or not checks.suited(raw)
        return RunFacts(raw, (), read="rest" if rest else "graphql")

    async def _read(self, repo: str, run: RunFacts) -> None:
        """One run's jobs (and a waiting run's pending deployments) through REST."""
        jobs, pending = await self._jobs_and_pending(repo, int(run.raw["id"]), run.raw)
        run.stages = self._named(repo, self._stages, jobs, pending)
        run.pending = pending

    async def _jobs_and_pending(
        self, repo: str, run_id: int, raw: Json
    ) -> tuple[list[Any], list[Any]]:
        """A run's jobs, and its pending deployments when it waits for a review (REST)."""
        if raw.get("status") != "waiting":
            return list_of(await self._jobs(repo, run_id), "jobs"), []
        jobs, pending = await gather(
            [
                self._jobs(repo, run_id),
                self.api.get(f"/repos/{repo}/actions/runs/{run_id}/pending_deployments"),
            ]
        )
        return list_of(jobs, "jobs"), list_of(pending, "pending deployments")

    def _named(self, repo: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)`; a payload of the wrong shape is an error naming the repository."""
        try:
            return fn(*args)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise Unreachable(
                f"{self.api.name}: {repo}: unexpected response shape "
                f"({type(exc).__name__}: {clean(str(exc), limit=80)})"
            ) from None

    async def _newest_runs(
        self, path: str, params: Mapping[str, Any]
    ) -> list[tuple[str, LazyJson]]:
        """The pages holding the newest runs_per_repo runs, following pages if the server
        sends fewer; bodies parsed when asked (`RunPages`), except a page followed by
        another, whose runs are counted."""
        pages: list[tuple[str, LazyJson]] = []
        count = 0
        lazy = functools.partial(LazyJson, parse=self.api.loads)
        async for page in self.api.pages(path, params=params, limit=self.runs_per_repo, loads=lazy):
            pages.append((path, page.body))
            if "next" in page.links or page.headers.get("x-next-page", "").strip():
                count += len(runs_of(self.api, path, page.body))
                if count >= self.runs_per_repo:
                    break
        return pages

    async def _jobs(self, repo: str, run_id: int) -> list[Any]:
        path = f"/repos/{repo}/actions/runs/{run_id}/jobs"
        return await self.api.collect(path, key="jobs", params={"per_page": 100})

    def _stages(self, jobs: list[Json], pending: Sequence[Json]) -> tuple[Stage, ...]:
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

        return tuple(mapping.stage(job, target(job)) for job in sorted(jobs, key=created))

    # Deferred jobs of finished runs ---------------------------------------------------------
    def backfill(
        self, repos: Sequence[str], facts: Sequence[RepoFacts]
    ) -> list[tuple[str, RunFacts]]:
        """The deferred runs this poll reads: none in the first poll, then at BACKFILL_RATE."""
        pairs = zip(repos, facts, strict=True)
        deferred = [(r, run) for r, f in pairs for run in f.runs if run.deferred]
        self.backlog = len(deferred)
        now = self.now()
        if self._backfill_from is None:
            self._backfill_from = now  # the first poll shows the current state first
            return []
        budget = min(int((now - self._backfill_from) * BACKFILL_RATE), self.backfill_cap)
        deferred.sort(key=lambda item: created(item[1].raw), reverse=True)  # newest first
        picked = deferred[:budget]
        if picked:
            self._backfill_from = now
            self.backlog -= len(picked)
        return picked

    async def fill(self, picked: Sequence[tuple[str, RunFacts]]) -> None:
        """Read deferred runs' jobs (one GraphQL query for all, REST where it cannot tell
        the whole story); a finished run's are remembered for good."""
        graph = [(repo, run) for repo, run in picked if checks.suited(run.raw)]
        rest = [(repo, run) for repo, run in picked if not checks.suited(run.raw)]
        answers = await self.checks.read([(repo, run.raw) for repo, run in graph])
        for (repo, run), found in zip(graph, answers, strict=True):
            if found is None:
                rest.append((repo, run))
            else:
                run.stages = self._named(repo, self._stages, found.jobs, ())
        await gather(self._read(repo, run) for repo, run in rest)
        for repo, run in picked:
            run.deferred = False
            self._memory[repo].runs[_run_key(run.raw)] = run

    # Environments ---------------------------------------------------------------------------
    async def _environments_after(self, repo: str) -> list[Json]:
        """Round one's environment read, queued for a slot after every runs list: a runs
        list read through `gather` (several workflows) reaches its slot one step later."""
        await _step()
        return await self.environments(repo)

    async def environments(self, repo: str) -> list[Json]:
        return list_of(
            await self.api.collect(
                f"/repos/{repo}/environments", key="environments", params={"per_page": 100}
            ),
            "environments",
        )


async def _awaited(aw: Awaitable[T]) -> T:
    return await aw


@types.coroutine
def _step() -> Generator[None]:
    """Let every other ready task run one step first (what asyncio.sleep(0) does inside)."""
    yield
