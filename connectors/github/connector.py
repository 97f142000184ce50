"""The GitHub Actions connector: runs, deployments, environment reviews and re-runs."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from cockpit.clock import Clock
from cockpit.connect import http_json
from cockpit.connect.http import Api
from cockpit.connector import Capability, Connector
from cockpit.errors import ConnectorError, RateLimited, Unreachable
from cockpit.model import (
    ActionKind,
    Deployment,
    EnvironmentInfo,
    Evidence,
    Observation,
    PendingApproval,
    PipelineRun,
    RateBudget,
    Stage,
)
from cockpit.sanitize import clean
from connectors.github import graphql, mapping
from connectors.github.actions import ReviewsAndReruns
from connectors.github.evidence import EvidenceReader, targets
from connectors.github.fetch import Fetcher, Lists, RepoFacts, RunFacts
from connectors.github.options import GitHubOptions, Repository

API_VERSION_HEADER = "2022-11-28"  # pinned: responses are parsed against this version
SECONDARY_WAIT = 60.0
INCOMPLETE = "older runs, jobs, reviews and protection rules"  # what an early frame lacks
EARLY_RUNS = 5  # an early frame's runs per repository, the newest (and any not finished)
EVIDENCE_WAIT = 5.0  # seconds a live poll waits for evidence reads; the rest follow
GITHUB_CAP = 100  # concurrent requests GitHub allows a user or app, REST and GraphQL
GRAPH_SLOTS = 4  # GraphQL queries in flight at once (jobs of many runs: a query per 100)
T = TypeVar("T")


class GitHubConnector(ReviewsAndReruns, Connector):
    """GitHub Actions on github.com or GitHub Enterprise Server, one or many repositories."""

    CAPABILITIES = frozenset(
        {Capability.PIPELINES, Capability.ENVIRONMENTS, Capability.APPROVALS, Capability.EVIDENCE}
    )
    ACTIONS = frozenset({ActionKind.APPROVE, ActionKind.REJECT, ActionKind.RERUN})
    Options = GitHubOptions
    DESCRIPTION = (
        "GitHub Actions: workflow runs, deployments, environment reviews, re-runs; "
        "attestations, SBOM, JUnit and SARIF artifacts, code scanning (when configured)"
    )

    def __init__(
        self,
        name: str,
        options: GitHubOptions,
        *,
        client: httpx.AsyncClient | None,
        clock: Clock,
    ) -> None:
        super().__init__(name, options, client=client, clock=clock)
        if client is None:
            raise ConnectorError(f"{name}: the GitHub connector needs an HTTP client")
        token = options.token.reveal()
        self.api = Api(
            client,
            options.base_url,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION_HEADER,
                "Authorization": f"Bearer {token}",
            },
            name=name,
            concurrency=options.concurrency,
            secrets=(token,),
            clock=lambda: self.clock.now().timestamp(),
            loads=http_json.loads,  # runs lists are large: orjson, twice as fast
        )
        # GraphQL: its own rate budget, and up to GRAPH_SLOTS queries in flight beside the
        # REST requests, as many as GitHub's cap of 100 concurrent requests (counting both)
        # leaves: one at concurrency 99.
        self.graph = Api(
            client,
            graphql.endpoint(options.base_url),
            headers={"Authorization": f"Bearer {token}"},
            name=name,
            concurrency=max(1, min(GRAPH_SLOTS, GITHUB_CAP - options.concurrency)),
            secrets=(token,),
            clock=lambda: self.clock.now().timestamp(),
            loads=http_json.loads,  # runs lists are large: orjson, twice as fast
        )
        self.fetcher = Fetcher(
            self.api,
            self.graph,
            options.environment,
            self._epoch,
            runs_per_repo=options.runs_per_repo,
            workflows=options.workflows,
            branch=options.branch,
            backfill_cap=options.concurrency,
        )
        self.supply = EvidenceReader(self.api, client, options, name, clock)
        self.supply.kept.on_late = self.changed
        self._last: Observation | None = None
        self._lock = asyncio.Lock()
        self._blocked_until = 0.0  # epoch seconds: GitHub asked us to wait until then
        self._rest: asyncio.Task[list[RepoFacts]] | None = None  # behind an early frame
        # Run id -> (payload, stages, mapped run) of the last poll (see `_run`).
        self._mapped: dict[str, tuple[Any, tuple[Stage, ...], PipelineRun]] = {}
        self._fresh: dict[str, tuple[Any, tuple[Stage, ...], PipelineRun]] = {}  # this poll's

    # Facts -------------------------------------------------------------------------------
    async def poll(self) -> Observation:
        async with self._lock:
            self._refuse_while_limited()
            repos = self.options.repositories
            names = [r.repo for r in repos]
            rest, self._rest = self._rest, None
            if rest is not None:
                # The first poll's second round, under way since its early frame.
                facts = await self._limited(rest)
                return self._observe(repos, facts, await self._evidence(repos, facts))
            early = self._last is None and self.live
            lists = await self._limited(self.fetcher.lists(names, early=early))
            if early:
                # Nothing shown yet: publish what the first round told at once (deployments
                # complete, runs without their jobs) and say so; the rest follows.
                self._rest = asyncio.create_task(self._complete(repos, lists))
                known = [self.fetcher.known(n, lists, newest=EARLY_RUNS) for n in names]
                return self._observe(repos, known, (), incomplete=INCOMPLETE)
            facts = await self._limited(self._details(repos, lists))
            return self._observe(repos, facts, await self._evidence(repos, facts))

    async def _complete(self, repos: Sequence[Repository], lists: Lists) -> list[RepoFacts]:
        """The second round behind an early frame; the hub polls again when it is done."""
        try:
            return await self._details(repos, lists)
        finally:
            self.changed()

    async def _details(self, repos: Sequence[Repository], lists: Lists) -> list[RepoFacts]:
        try:
            facts = await self.fetcher.details([r.repo for r in repos], lists)
        finally:
            lists.close()  # environment reads left over by a failed poll
        await self._backfill(repos, facts)
        return facts

    async def _limited(self, work: Awaitable[T]) -> T:
        """Await `work`; a rate limit also holds back every poll until it has passed."""
        try:
            return await work
        except RateLimited as exc:
            if exc.retry_after:
                self._blocked_until = self._epoch() + exc.retry_after
                raise
            # GitHub: without retry-after or an exhausted budget, wait at least a minute.
            self._blocked_until = self._epoch() + SECONDARY_WAIT
            raise RateLimited(f"{exc}; waiting {SECONDARY_WAIT:.0f}s", SECONDARY_WAIT) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise Unreachable(
                f"{self.name}: unexpected response shape "
                f"({type(exc).__name__}: {clean(str(exc), limit=80)})"
            ) from None

    async def _evidence(
        self, repos: Sequence[Repository], facts: Sequence[RepoFacts]
    ) -> tuple[Evidence, ...]:
        """Supply-chain documents of the deployed and newest versions, when configured
        (connectors/github/evidence.py); a failed read is a document with its problem."""
        if not self.options.wants_evidence:
            return ()
        wanted = []
        for repo, repo_facts in zip(repos, facts, strict=True):
            deployed = [e.deployments[e.live] for e in repo_facts.deployments if e.live >= 0]
            runs = [r.raw for r in repo_facts.runs]
            service = self.options.service(repo)
            o = self.options
            wanted += targets(
                repo.repo, service, runs, deployed, o.evidence_runs, o.test_history_runs
            )
        # A live poll does not wait long for downloads; a one-shot refresh waits for all.
        self.supply.kept.wait = EVIDENCE_WAIT if self.live else None
        return await self.supply.read(wanted)

    def _observe(
        self,
        repos: Sequence[Repository],
        facts: Sequence[RepoFacts],
        evidence: Sequence[Evidence],
        incomplete: str = "",
    ) -> Observation:
        now = self.clock.now()
        runs: list[PipelineRun] = []
        deployments: list[Deployment] = []
        approvals: list[PendingApproval] = []
        self._fresh = {}
        for repo, repo_facts in zip(repos, facts, strict=True):
            r, d, a = self._map(repo, repo_facts, now)
            runs += r
            deployments += d
            approvals += a
        self._mapped = self._fresh  # runs no longer listed are forgotten
        last = self._last
        obs = Observation(
            source=self.name,
            observed_at=now,
            runs=_stable(last.runs if last else (), runs, lambda x: x.id),
            deployments=_stable(last.deployments if last else (), _newest(deployments), _dep_key),
            approvals=_stable(last.approvals if last else (), approvals, lambda x: x.id),
            evidence=_stable(last.evidence if last else (), evidence, _evidence_key),
            environments=self._environments(repos, facts),
            incomplete=incomplete,
            rate=self._budgets(),
        )
        self._last = obs
        return obs

    def _budgets(self) -> tuple[RateBudget, ...]:
        """REST and GraphQL are separate budgets at GitHub: both, as last reported."""
        out = []
        rest = self.api.rate
        if rest.remaining is not None and rest.limit:
            reset = datetime.fromtimestamp(rest.reset_at, UTC) if rest.reset_at else None
            out.append(RateBudget("REST", rest.remaining, rest.limit, reset))
        graph = graphql.newest(self.fetcher.deploys.budget, self.fetcher.checks.budget)
        if graph is not None:
            out.append(RateBudget("GraphQL", graph.remaining, graph.limit, graph.reset_at))
        return tuple(out)

    async def pipelines(self) -> Sequence[PipelineRun]:
        return (await self.poll()).runs

    async def deployments(self) -> Sequence[Deployment]:
        return (await self.poll()).deployments

    async def approvals(self) -> Sequence[PendingApproval]:
        return (await self.poll()).approvals

    async def environments(self) -> Sequence[EnvironmentInfo]:
        return (await self.poll()).environments

    async def evidence(self) -> Sequence[Evidence]:
        return (await self.poll()).evidence

    async def _backfill(self, repos: Sequence[Repository], facts: Sequence[RepoFacts]) -> None:
        """Read some of the finished runs' jobs the first poll left for later."""
        picked = self.fetcher.backfill([r.repo for r in repos], facts)
        if picked:
            await self.fetcher.fill(picked)

    def _map(
        self, repo: Repository, facts: RepoFacts, now: datetime
    ) -> tuple[list[PipelineRun], list[Deployment], list[PendingApproval]]:
        service = self.options.service(repo)
        env = self.options.environment
        try:
            runs, approvals = [], []
            for run in facts.runs:
                pipeline = self._run(run, repo.repo, service, now)
                runs.append(pipeline)
                approvals += [
                    mapping.approval(
                        p, run.raw, pipeline, repo.repo, env, source=self.name, now=now
                    )
                    for p in run.pending
                ]
            deployments = [
                mapping.deployment(
                    e.deployments[e.live],
                    e.status,
                    e.deployments[e.live + 1 :],
                    service=service,
                    environment=env(e.name),
                    source=self.name,
                    now=now,
                )
                for e in facts.deployments
                if e.live >= 0
            ]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._shape_error(repo, exc) from None
        return runs, deployments, approvals

    def _run(self, run: RunFacts, repo: str, service: str, now: datetime) -> PipelineRun:
        """A run mapped, or last poll's object when its payload is the very object it was
        mapped from (a 304 hands back the cached body) and its stages are equal: what
        `_stable` would keep anyway, without the mapping and the comparison."""
        key = mapping.run_key(repo, run.raw["id"])
        seen = self._mapped.get(key)
        if seen is not None and seen[0] is run.raw and seen[1] == run.stages:
            pipeline = seen[2]
        else:
            pipeline = mapping.run(run.raw, repo, service, run.stages, source=self.name, now=now)
        self._fresh[key] = (run.raw, run.stages, pipeline)
        return pipeline

    def _environments(
        self, repos: Sequence[Repository], facts: Sequence[RepoFacts]
    ) -> tuple[EnvironmentInfo, ...]:
        """One entry per cockpit environment; a rule only some repositories have names them."""
        rules: dict[str, dict[str, list[str]]] = {}  # env -> rule -> repos
        having: dict[str, list[str]] = {}  # env -> repos that define it
        for repo, repo_facts in zip(repos, facts, strict=True):
            for raw in repo_facts.environments:
                env = self.options.environment(str(raw.get("name") or ""))
                having.setdefault(env, []).append(repo.repo)
                for rule in mapping.protection(raw):
                    rules.setdefault(env, {}).setdefault(rule, []).append(repo.repo)
        out = []
        for env, repos_of_env in having.items():
            texts = []
            for rule, owners in rules.get(env, {}).items():
                whole = len(owners) == len(repos_of_env)
                texts.append(rule if whole else f"{rule} ({', '.join(owners)})")
            out.append(EnvironmentInfo(env, self.name, tuple(texts)))
        return tuple(out)

    async def aclose(self) -> None:
        await self.supply.aclose()
        rest, self._rest = self._rest, None
        if rest is not None:
            rest.cancel()
            await asyncio.gather(rest, return_exceptions=True)

    # Helpers ------------------------------------------------------------------------------
    def _epoch(self) -> float:
        return self.clock.now().timestamp()

    def _refuse_while_limited(self) -> None:
        """Back off without sending anything while GitHub's limit has not reset."""
        now = self._epoch()
        until = self._blocked_until
        for rate in (self.api.rate, self.graph.rate):
            if rate.remaining == 0 and rate.reset_at:
                until = max(until, rate.reset_at)
        if until > now:
            wait = until - now
            raise RateLimited(
                f"{self.name}: GitHub asked us to slow down; next try in {wait:.0f}s",
                retry_after=wait,
            )

    def _shape_error(self, repo: Repository, exc: Exception) -> Unreachable:
        return Unreachable(
            f"{self.name}: {repo.repo}: unexpected response shape "
            f"({type(exc).__name__}: {clean(str(exc), limit=80)})"
        )


def _dep_key(d: Deployment) -> tuple[str, str]:
    return d.key


def _evidence_key(e: Evidence) -> tuple[str, ...]:
    return (e.kind.value, e.service, e.version, e.ref, e.subject, e.problem)


def _newest(deployments: list[Deployment]) -> list[Deployment]:
    """One deployment per (service, environment): two repositories may feed one service."""
    newest: dict[tuple[str, str], Deployment] = {}
    for d in deployments:
        if d.key not in newest or d.deployed_at > newest[d.key].deployed_at:
            newest[d.key] = d
    return list(newest.values())


def _stable(
    previous: Sequence[T], items: Sequence[T], key: Callable[[T], Hashable]
) -> tuple[T, ...]:
    """Reuse last poll's objects when only observed_at moved, so the hub sees no change."""
    before: dict[Any, T] = {key(p): p for p in previous}
    out: list[T] = []
    for item in items:
        old = before.get(key(item))
        if old is not None and old is not item:
            when = item.observed_at  # type: ignore[attr-defined]
            if dataclasses.replace(old, observed_at=when) == item:  # type: ignore[type-var]
                item = old
        out.append(item)
    if len(out) == len(previous) and all(a is b for a, b in zip(out, previous, strict=True)):
        return tuple(previous)
    return tuple(out)
