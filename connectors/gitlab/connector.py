"""The GitLab connector: pipelines, environments, deployment approvals and deploy freezes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from cockpit.clock import Clock
from cockpit.connect.http import Api
from cockpit.connector import Capability, Connector
from cockpit.errors import Unreachable
from cockpit.model import (
    Action,
    ActionKind,
    ActionResult,
    ChangeWindow,
    Deployment,
    EnvironmentInfo,
    Evidence,
    Observation,
    PendingApproval,
    PipelineRun,
)
from cockpit.sanitize import clean
from connectors.gitlab import actions, approvals, freeze, mapping
from connectors.gitlab.evidence import PipelineEvidence
from connectors.gitlab.fetch import Fetcher, Raw
from connectors.gitlab.options import GitLabOptions, Project

T = TypeVar("T")
EVIDENCE_WAIT = 5.0  # seconds a live poll waits for evidence reads; the rest follow

# The raw pieces each kind of fact needs.
NEEDS = {
    "runs": {"pipelines", "environments", "deployments"},
    "deployments": {"environments", "deployments"},
    "approvals": {"environments", "deployments", "protected", "blocked"},
    "environments": {"environments", "protected"},
    "windows": {"freezes"},
}


@dataclass
class Facts:
    """One project's facts of one poll."""

    runs: list[PipelineRun] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    approvals: list[PendingApproval] = field(default_factory=list)
    windows: list[ChangeWindow] = field(default_factory=list)
    protection: dict[str, tuple[str, ...]] = field(default_factory=dict)


class GitLabConnector(Connector):
    """GitLab.com or a self-managed GitLab, through REST v4 and a personal/project token."""

    CAPABILITIES = frozenset(
        {
            Capability.PIPELINES,
            Capability.ENVIRONMENTS,
            Capability.APPROVALS,
            Capability.WINDOWS,
            Capability.EVIDENCE,
        }
    )
    ACTIONS = frozenset(
        {ActionKind.APPROVE, ActionKind.REJECT, ActionKind.PROMOTE, ActionKind.RERUN}
    )
    Options = GitLabOptions
    DESCRIPTION = (
        "GitLab (gitlab.com or self-managed): pipelines and jobs, environments and deployments, "
        "deployment approvals, protected environments, deploy freezes; "
        "test reports, SBOM and SARIF job artifacts (when configured)"
    )

    def __init__(
        self, name: str, options: GitLabOptions, *, client: httpx.AsyncClient | None, clock: Clock
    ) -> None:
        super().__init__(name, options, client=client, clock=clock)
        if client is None:
            raise ValueError("the GitLab connector needs an HTTP client")
        token = options.token.reveal()
        header = (
            {"PRIVATE-TOKEN": token}
            if options.auth == "private-token"
            else {"Authorization": f"Bearer {token}"}
        )
        self.api = Api(
            client,
            options.api_root,
            headers={"Accept": "application/json", **header},
            name=name,
            concurrency=options.concurrency,
            secrets=(token,),
            clock=lambda: self.clock.now().timestamp(),
        )
        self.fetcher = Fetcher(self.api, options)
        self.seen = actions.Seen()
        self.supply = PipelineEvidence(self.api, options, self.fetcher.finished_jobs, name, clock)
        self.supply.kept.on_late = self.changed

    # Facts -------------------------------------------------------------------------------
    async def poll(self) -> Observation:
        facts = await self._facts(set(NEEDS))
        evidence = await self._evidence(facts)
        return Observation(
            source=self.name,
            observed_at=self.clock.now(),
            runs=tuple(r for f in facts for r in f.runs),
            deployments=tuple(d for f in facts for d in f.deployments),
            approvals=tuple(a for f in facts for a in f.approvals),
            windows=tuple(w for f in facts for w in f.windows),
            environments=self._environment_info(facts),
            evidence=evidence,
        )

    async def pipelines(self) -> Sequence[PipelineRun]:
        return [r for f in await self._facts({"runs"}) for r in f.runs]

    async def deployments(self) -> Sequence[Deployment]:
        return [d for f in await self._facts({"deployments"}) for d in f.deployments]

    async def approvals(self) -> Sequence[PendingApproval]:
        return [a for f in await self._facts({"approvals"}) for a in f.approvals]

    async def windows(self) -> Sequence[ChangeWindow]:
        return [w for f in await self._facts({"windows"}) for w in f.windows]

    async def environments(self) -> Sequence[EnvironmentInfo]:
        return self._environment_info(await self._facts({"environments"}))

    async def evidence(self) -> Sequence[Evidence]:
        return await self._evidence(await self._facts({"runs"}))

    async def _evidence(self, facts: list[Facts]) -> tuple[Evidence, ...]:
        """The newest finished pipelines' test reports and SBOM/SARIF job artifacts, when
        configured (connectors/gitlab/evidence.py)."""
        if not self.supply.wanted_any:
            return ()
        projects = [p.project for p in self.options.projects]
        self.supply.kept.wait = EVIDENCE_WAIT if self.live else None
        return await self.supply.read(list(zip(projects, [f.runs for f in facts], strict=True)))

    async def _facts(self, kinds: set[str]) -> list[Facts]:
        pieces = frozenset(p for k in kinds for p in NEEDS[k])
        return list(
            await asyncio.gather(*(self._project(p, kinds, pieces) for p in self.options.projects))
        )

    async def _project(self, project: Project, kinds: set[str], pieces: frozenset[str]) -> Facts:
        raw = await self.fetcher.project(project.project, pieces)
        return self._guard(project.project, lambda: self._map(project, raw, kinds))

    def _map(self, project: Project, raw: Raw, kinds: set[str]) -> Facts:
        path, service = project.project, self.options.service_of(project)
        tiers = {str(e["name"]): str(e.get("tier") or "") for e in raw.environments or []}
        ctx = mapping.Context(
            self.name,
            self.clock.now(),
            lambda n: self.options.environment_of(n, tiers.get(n, "")),
            frozenset(tiers) | self.options.environment_names(),
        )
        facts = Facts()
        deploy_jobs = {
            int(d["deployable"]["id"]): str(d["environment"]["name"])
            for d in raw.deployments or []
            if d.get("deployable")
        }
        if "runs" in kinds and raw.pipelines is not None:
            facts.runs = [
                mapping.run(path, service, p, jobs, ctx, deploy_jobs, raw.tests.get(int(p["id"])))
                for p, jobs in raw.pipelines
            ]
            self.seen.remember_runs(path, raw.pipelines, ctx, deploy_jobs)
        if raw.deployments is not None:
            self.seen.remember_deployments(path, raw.deployments)
            if "deployments" in kinds:
                facts.deployments = mapping.deployments(service, raw.deployments, ctx)
        protected = {str(p["name"]): p for p in raw.protected or []}
        if "approvals" in kinds:
            for dep in raw.blocked:
                rules = protected.get(str(dep["environment"]["name"]))
                found = approvals.approval(path, service, dep, rules, ctx)
                if found is not None:
                    facts.approvals.append(found)
        if "environments" in kinds:
            for item in raw.environments or []:
                target = ctx.environment(str(item["name"]))
                if target is None:
                    continue
                if raw.protected_note:
                    facts.protection[target] = (raw.protected_note,)
                elif item["name"] in protected:
                    facts.protection[target] = approvals.protection(protected[item["name"]])
                else:
                    facts.protection.setdefault(target, ())
        if "windows" in kinds:
            now = self.clock.now()
            facts.windows = [freeze.window(path, p, now, self.name) for p in raw.freezes or []]
        return facts

    def _environment_info(self, facts: list[Facts]) -> tuple[EnvironmentInfo, ...]:
        merged: dict[str, list[str]] = {}
        several = len(self.options.projects) > 1
        for project, f in zip(self.options.projects, facts, strict=True):
            for env, lines in f.protection.items():
                prefix = f"{project.project}: " if several else ""
                merged.setdefault(env, []).extend(prefix + line for line in lines)
        return tuple(EnvironmentInfo(env, self.name, tuple(lines)) for env, lines in merged.items())

    def _guard(self, project: str, build: Callable[[], T]) -> T:
        """Payloads that do not have the documented shape become a clear, short error."""
        try:
            return build()
        except KeyError as exc:
            detail = f"missing field {exc}"
        except (TypeError, ValueError, AttributeError) as exc:
            detail = str(exc)
        raise Unreachable(
            clean(f"{self.name}: {project}: cannot use GitLab's answer: {detail}", limit=200)
        ) from None

    async def aclose(self) -> None:
        await self.supply.aclose()

    # Actions -----------------------------------------------------------------------------
    async def execute(self, action: Action) -> ActionResult:
        return await actions.execute(self, action)
