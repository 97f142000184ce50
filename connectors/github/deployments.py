"""A repository's deployments per environment and each environment's live one's status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cockpit.errors import Unreachable
from cockpit.http import Api
from connectors.github.tasks import gather

Json = Mapping[str, Any]
Statuses = dict[int, tuple[str, Json | None]]  # deployment id -> (updated_at, latest status)

DEPLOYMENT_PAGES = 2  # of 100; older deployments are fetched per environment if needed
HISTORY = 10  # earlier deployments kept per environment
INACTIVE_WALK = 3  # how far back to look past deployments marked inactive
SETTLED = {"success", "failure", "error", "inactive"}


@dataclass
class EnvFacts:
    name: str  # GitHub's environment name
    deployments: list[Json]  # newest first
    live: int = 0  # index of the newest deployment that is not inactive; -1: none
    status: Json | None = None  # its latest status


def list_of(body: object, what: str) -> list[Json]:
    if not isinstance(body, list) or not all(isinstance(x, Mapping) for x in body):
        raise Unreachable(f"{what} did not return a list of objects")
    return body


def created(item: Json) -> tuple[str, int]:
    return (str(item.get("created_at") or ""), int(item.get("id") or 0))


class Deployments:
    """Reads deployments and the latest status of each environment's live deployment."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def read(
        self,
        repo: str,
        known: Statuses,
        full: bool,
        env_names: Callable[[], Awaitable[set[str]]],
    ) -> tuple[list[EnvFacts], Statuses]:
        """Each environment's deployments and live status; the statuses learnt, to reuse."""
        listed, more = await self._pages(repo)
        by_env: dict[str, list[Json]] = {}
        for dep in listed:
            by_env.setdefault(str(dep.get("environment") or "production"), []).append(dep)
        if more:
            # A busy environment can crowd a quiet one (production) off the pages read:
            # every environment short of a full history is asked for on its own.
            names = await env_names() | set(by_env)
            thin = sorted(n for n in names if len(by_env.get(n, [])) <= HISTORY)
            found = await gather(self._env_deployments(repo, name) for name in thin)
            for name, deps in zip(thin, found, strict=True):
                seen = {d.get("id") for d in by_env.get(name, [])}
                by_env.setdefault(name, []).extend(d for d in deps if d.get("id") not in seen)
            by_env = {n: d for n, d in by_env.items() if d}
        envs = [
            EnvFacts(name, sorted(deps, key=created, reverse=True)[: HISTORY + 1])
            for name, deps in by_env.items()
        ]
        learnt: Statuses = {}
        await gather(self._live(repo, env, known, learnt, full) for env in envs)
        return envs, learnt

    async def _pages(self, repo: str) -> tuple[list[Json], bool]:
        """The newest deployments (a few pages), and whether older ones remain unread."""
        found: list[Json] = []
        more = False
        async for page in self.api.pages(
            f"/repos/{repo}/deployments", params={"per_page": 100}, limit=DEPLOYMENT_PAGES
        ):
            found += list_of(page.body, "deployments")
            more = "next" in page.links
        return found, more

    async def _env_deployments(self, repo: str, name: str) -> list[Json]:
        body = await self.api.get(
            f"/repos/{repo}/deployments", params={"environment": name, "per_page": HISTORY + 1}
        )
        return list_of(body, "deployments")

    async def _live(
        self, repo: str, env: EnvFacts, known: Statuses, learnt: Statuses, full: bool
    ) -> None:
        """Find the newest deployment not marked inactive, and its latest status.

        Only the live deployment's status is read: earlier ones are history, shown by
        version and author, and an inactive one hands over to the one before it.
        """
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
                statuses = list_of(body, "deployment statuses")
                # The list order is not documented; the highest id is the latest status.
                latest = max(statuses, key=lambda s: int(s.get("id") or 0), default=None)
            learnt[dep_id] = (updated, latest)
            if latest is None or latest.get("state") != "inactive":
                env.live, env.status = index, latest
                return
        env.live = -1  # every recent deployment was taken down
