"""A repository's deployments per environment and which one is live, read through GraphQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cockpit.connect.http import Api
from cockpit.errors import Unreachable
from connectors.github import graphql
from connectors.github.tasks import gather

Json = Mapping[str, Any]

HISTORY = 10  # earlier deployments kept per environment
INACTIVE_WALK = 3  # how far back to look past deployments marked inactive


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
    """Every watched repository's deployments and live statuses in one GraphQL round.

    A busy environment can crowd a quiet one (production) off the newest deployments
    listed: only then does a second query ask for each such environment on its own.
    """

    def __init__(self, api: Api) -> None:
        self.api = api  # the GraphQL endpoint
        self.budget: graphql.Budget | None = None

    async def read(self, repos: Sequence[str]) -> dict[str, list[EnvFacts]]:
        batches = [list(repos[i : i + graphql.BATCH]) for i in range(0, len(repos), graphql.BATCH)]
        answers = await gather(self._ask(graphql.listing_query(b), b) for b in batches)
        by_repo: dict[str, dict[str, list[Json]]] = {}
        thin: list[tuple[str, str]] = []
        for batch, nodes in zip(batches, answers, strict=True):
            for repo, node in zip(batch, nodes, strict=True):
                found = graphql.listed(node)
                by_env: dict[str, list[Json]] = {}
                for dep in found.deployments:
                    by_env.setdefault(str(dep.get("environment") or "production"), []).append(dep)
                by_repo[repo] = by_env
                if found.more:
                    names = sorted(set(found.environments) | set(by_env))
                    thin += [(repo, n) for n in names if len(by_env.get(n, [])) <= HISTORY]
        if thin:
            await self._history(thin, by_repo)
        return {
            repo: [_live(name, deps) for name, deps in by_env.items() if deps]
            for repo, by_env in by_repo.items()
        }

    async def _history(
        self, wanted: list[tuple[str, str]], by_repo: dict[str, dict[str, list[Json]]]
    ) -> None:
        step = graphql.BATCH
        chunks = [wanted[i : i + step] for i in range(0, len(wanted), step)]
        answers = await gather(
            self._ask(graphql.history_query(c, HISTORY + 1), [r for r, _ in c]) for c in chunks
        )
        for chunk, nodes in zip(chunks, answers, strict=True):
            for (repo, env), node in zip(chunk, nodes, strict=True):
                deps = [graphql.deployment(d) for d in node["deployments"]["nodes"]]
                have = by_repo[repo].setdefault(env, [])
                seen = {d.get("id") for d in have}
                have.extend(d for d in deps if d.get("id") not in seen)

    async def _ask(self, query: tuple[str, dict[str, str]], repos: list[str]) -> list[Json]:
        try:
            nodes, budget = await graphql.ask(self.api, query[0], query[1], repos)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise Unreachable(f"{self.api.name}: unexpected GraphQL shape ({exc!r:.80})") from None
        self.budget = graphql.newest(self.budget, budget)
        return nodes


def _live(name: str, deps: list[Json]) -> EnvFacts:
    """The newest deployment not marked inactive (an inactive one hands over to the one
    before it), with earlier ones as history."""
    env = EnvFacts(name, sorted(deps, key=created, reverse=True)[: HISTORY + 1])
    for index, dep in enumerate(env.deployments[: INACTIVE_WALK + 1]):
        latest = dep.get("latest_status")
        if latest is None or latest.get("state") != "inactive":
            env.live, env.status = index, latest
            return env
    env.live = -1  # every recent deployment was taken down
    return env
