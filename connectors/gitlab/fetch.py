"""The GitLab REST v4 reads one poll needs, with per-pipeline job caching."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from cockpit.connect.http import Api
from cockpit.errors import Unreachable
from connectors.gitlab.mapping import STATUS, Json
from connectors.gitlab.options import GitLabOptions

PER_PAGE = 100  # GitLab's maximum page size
MAX_PAGES = 20  # enough for every list a poll reads; bounds a misbehaving server
_FINISHED = {s for s in STATUS.values() if s.terminal}


def project_path(project: str) -> str:
    """`projects/:id` with the "group/project" path URL-encoded as one segment."""
    return "projects/" + quote(project, safe="")


@dataclass
class Raw:
    """What one project answered in one poll; None where the piece was not asked for."""

    pipelines: list[tuple[Json, list[Json]]] | None = None
    tests: dict[int, Json] = field(default_factory=dict)  # pipeline id -> test report summary
    environments: list[Json] | None = None
    deployments: list[Json] | None = None
    blocked: list[Json] = field(default_factory=list)  # full GETs of blocked deployments
    protected: list[Json] | None = None
    protected_note: str = ""  # why protection rules are unknown, when they are
    freezes: list[Json] | None = None


class Fetcher:
    """Reads projects through the shared `Api` (ETags, rate limits, pagination)."""

    def __init__(self, api: Api, options: GitLabOptions) -> None:
        self.api = api
        self.options = options
        # (project, pipeline id) -> (updated_at, jobs, test report summary) of finished
        # pipelines: they only change when the pipeline does (a retry touches updated_at).
        self._done: dict[tuple[str, int], tuple[str, list[Json], Json | None]] = {}

    async def _list(self, path: str, *, want: int = PER_PAGE, **params: Any) -> list[Json]:
        """Up to `want` items, page after page (a server may send fewer than asked for)."""
        items: list[Json] = []
        query = {"per_page": min(want, PER_PAGE), **params}
        # Leaving the page generator early is fine: it holds nothing between pages.
        async for page in self.api.pages(path, params=query, limit=MAX_PAGES):
            if not isinstance(page.body, list):
                raise Unreachable(f"{self.api.name}: {path} did not return a list")
            items.extend(page.body)
            if len(items) >= want:
                break
        return items[:want]

    async def project(self, project: str, pieces: frozenset[str]) -> Raw:
        base = project_path(project)
        raw = Raw()
        jobs: dict[str, Any] = {}
        if "pipelines" in pieces:
            jobs["pipelines"] = self.pipelines(project)
        if "environments" in pieces:
            jobs["environments"] = self._list(f"{base}/environments", want=1000, states="available")
        if "deployments" in pieces:
            jobs["deployments"] = self._list(
                f"{base}/deployments",
                want=self.options.deployments_per_project,
                order_by="id",
                sort="desc",
            )
        if "protected" in pieces:
            jobs["protected"] = self.protected(base)
        if "freezes" in pieces:
            jobs["freezes"] = self._list(f"{base}/freeze_periods", want=1000)
        results = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
        if "pipelines" in results:
            raw.pipelines = [(p, jobs) for p, jobs, _ in results["pipelines"]]
            raw.tests = {int(p["id"]): t for p, _, t in results["pipelines"] if t is not None}
        raw.environments = results.get("environments")
        raw.deployments = results.get("deployments")
        raw.freezes = results.get("freezes")
        if "protected" in results:
            raw.protected, raw.protected_note = results["protected"]
        if "blocked" in pieces and raw.deployments is not None:
            blocked = [d["id"] for d in raw.deployments if d.get("status") == "blocked"]
            raw.blocked = list(
                await asyncio.gather(*(self.api.get(f"{base}/deployments/{i}") for i in blocked))
            )
        return raw

    async def pipelines(self, project: str) -> list[tuple[Json, list[Json], Json | None]]:
        """The newest pipelines, each with its jobs and its test report summary."""
        base = project_path(project)
        items = await self._list(
            f"{base}/pipelines", want=self.options.pipelines_per_project, order_by="id", sort="desc"
        )
        details = await asyncio.gather(*(self._details(project, p) for p in items))
        current = {(project, int(p["id"])) for p in items}
        for key in [k for k in self._done if k[0] == project and k not in current]:
            del self._done[key]
        return [(p, jobs, tests) for p, (jobs, tests) in zip(items, details, strict=True)]

    def finished_jobs(self, project: str, pipeline_id: int) -> list[Json] | None:
        """The jobs of a finished pipeline as last read, None when not known finished."""
        done = self._done.get((project, pipeline_id))
        return done[1] if done is not None else None

    async def _details(self, project: str, pipeline: Json) -> tuple[list[Json], Json | None]:
        key = (project, int(pipeline["id"]))
        updated = str(pipeline.get("updated_at") or "")
        cached = self._done.get(key)
        if cached is not None and cached[0] == updated:
            return cached[1], cached[2]
        path = f"{project_path(project)}/pipelines/{key[1]}"
        jobs, tests = await asyncio.gather(
            self._list(f"{path}/jobs", want=1000), self._test_summary(f"{path}/test_report_summary")
        )
        if STATUS.get(str(pipeline.get("status")), None) in _FINISHED and updated:
            self._done[key] = (updated, jobs, tests)
        return jobs, tests

    async def _test_summary(self, path: str) -> Json | None:
        """The pipeline's test report totals; None where this GitLab has no such endpoint."""
        resp = await self.api.request("GET", path, accept=(404,))
        if resp.status == 404:
            return None
        if not isinstance(resp.body, dict):
            raise Unreachable(f"{self.api.name}: {path} did not return an object")
        return resp.body

    async def protected(self, base: str) -> tuple[list[Json] | None, str]:
        """Protected environments, or None and why this GitLab or token cannot read them."""
        resp = await self.api.request(
            "GET",
            f"{base}/protected_environments",
            params={"per_page": PER_PAGE},
            accept=(403, 404),
        )
        if resp.status == 404:
            return None, "protection rules unknown: no protected environments API (GitLab Free?)"
        if resp.status == 403:
            return None, "protection rules unknown: reading them needs the Maintainer role"
        if not isinstance(resp.body, list):
            raise Unreachable(
                f"{self.api.name}: {base}/protected_environments did not return a list"
            )
        return resp.body, ""
