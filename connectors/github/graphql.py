"""GitHub's GraphQL API: many repositories' deployments and latest statuses in one query.

REST needs a round trip for the deployments list and then one per environment for the
live deployment's status; one GraphQL query (an alias per repository) answers both for
every repository at once. Nodes are turned into the REST shapes `mapping` reads, so one
mapping serves both. Field names follow GitHub's public schema (Repository.deployments,
Deployment.latestStatus, RateLimit).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit.connect.http import Api
from cockpit.errors import RateLimited, Rejected, Unauthorized, Unreachable
from cockpit.sanitize import clean

Json = Mapping[str, Any]

BATCH = 50  # repositories per query: 100 deployments each stays far below 500,000 nodes
LISTED = 100  # newest deployments per repository (GitHub's page size)

_DEPLOYMENT = """fragment Dep on Deployment {
  databaseId environment createdAt updatedAt commitOid description payload task
  ref { name } creator { login } latestStatus { state createdAt description }
}"""
_DEPLOYMENTS = (
    "{first}, orderBy: {{field: CREATED_AT, direction: DESC}}) "
    "{{ pageInfo {{ hasNextPage }} nodes {{ ...Dep }} }}"
)


@dataclass(frozen=True)
class Budget:
    """GitHub's GraphQL rate limit as the last query reported it."""

    remaining: int
    limit: int
    cost: int
    reset_at: datetime | None


@dataclass(frozen=True)
class Listed:
    """One repository's newest deployments (REST-shaped) and its environments' names."""

    deployments: list[Json]
    environments: list[str]
    more: bool  # older deployments exist beyond those listed


def endpoint(base_url: str) -> str:
    """github.com answers at /graphql; GitHub Enterprise Server at /api/graphql."""
    base = base_url.rstrip("/")
    return base[: -len("/v3")] + "/graphql" if base.endswith("/api/v3") else base + "/graphql"


def listing_query(repos: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Every repository's newest deployments and environment names, one alias each."""
    heads, parts, variables = [], [], {}
    for i, repo in enumerate(repos):
        owner, name = repo.split("/", 1)
        variables[f"o{i}"], variables[f"n{i}"] = owner, name
        heads.append(f"$o{i}: String!, $n{i}: String!")
        deps = _DEPLOYMENTS.format(first=f"first: {LISTED}")
        parts.append(
            f"  r{i}: repository(owner: $o{i}, name: $n{i}) "
            f"{{ environments(first: 100) {{ nodes {{ name }} }} deployments({deps} }}"
        )
    return _query(heads, parts), variables


def history_query(wanted: Sequence[tuple[str, str]], count: int) -> tuple[str, dict[str, str]]:
    """The newest `count` deployments of each (repository, environment), one alias each."""
    heads, parts, variables = [], [], {}
    for i, (repo, env) in enumerate(wanted):
        owner, name = repo.split("/", 1)
        variables[f"o{i}"], variables[f"n{i}"], variables[f"e{i}"] = owner, name, env
        heads.append(f"$o{i}: String!, $n{i}: String!, $e{i}: String!")
        deps = _DEPLOYMENTS.format(first=f"environments: [$e{i}], first: {count}")
        parts.append(f"  r{i}: repository(owner: $o{i}, name: $n{i}) {{ deployments({deps} }}")
    return _query(heads, parts), variables


def _query(heads: list[str], parts: list[str]) -> str:
    return (
        f"query({', '.join(heads)}) {{\n"
        + "\n".join(parts)
        + "\n  rateLimit { cost limit remaining resetAt }\n}\n"
        + _DEPLOYMENT
    )


async def ask(
    api: Api,
    query: str,
    variables: Mapping[str, str],
    repos: Sequence[str],
    *,
    prefix: str = "r",
) -> tuple[list[Json], Budget | None]:
    """POST one query; each alias's object (`{prefix}{i}`) in order, and the budget left.

    Any error fails the whole query (fail closed): a repository (or run: `repos` names
    what each alias asks for) GitHub cannot resolve is named, as a REST 404 would be.
    """
    sent = {"query": query, "variables": variables}
    body = (await api.request("POST", api.base_url, json_body=sent)).body
    if not isinstance(body, Mapping):
        raise Unreachable(f"{api.name}: GraphQL did not return an object")
    errors = body.get("errors")
    if errors:
        raise _error(api.name, errors, repos)
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise Unreachable(f"{api.name}: GraphQL returned no data")
    found = []
    for i, repo in enumerate(repos):
        node = data.get(f"{prefix}{i}")
        if not isinstance(node, Mapping):
            raise Rejected(f"{api.name}: {repo}: not found or not visible to the token")
        found.append(node)
    return found, budget(data.get("rateLimit"))


def newest(old: Budget | None, new: Budget | None) -> Budget | None:
    """The later of two reports: a later reset is a new window, else the fewer points left
    (queries answered out of order must not raise the budget shown)."""
    if old is None or new is None:
        return new or old
    if _reset(new) != _reset(old):
        return max(new, old, key=_reset)
    return new if new.remaining <= old.remaining else old


def _reset(b: Budget) -> float:
    return b.reset_at.timestamp() if b.reset_at else 0.0


def budget(raw: object) -> Budget | None:
    if not isinstance(raw, Mapping):
        return None
    reset = raw.get("resetAt")
    return Budget(
        remaining=int(raw.get("remaining") or 0),
        limit=int(raw.get("limit") or 0),
        cost=int(raw.get("cost") or 0),
        reset_at=datetime.fromisoformat(reset) if isinstance(reset, str) else None,
    )


def _error(name: str, errors: object, repos: Sequence[str]) -> Exception:
    first: Json = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, Mapping):
        first = {}
    kind = str(first.get("type") or "")
    message = clean(str(first.get("message") or "GraphQL error"), limit=160)
    path = first.get("path")
    where = ""
    if isinstance(path, list) and path and isinstance(path[0], str) and path[0][1:].isdigit():
        index = int(path[0][1:])
        where = f"{repos[index]}: " if index < len(repos) else ""
    if kind == "RATE_LIMITED":
        return RateLimited(f"{name}: GraphQL rate limit exhausted: {message}", None)
    if kind in ("FORBIDDEN", "INSUFFICIENT_SCOPES"):
        return Unauthorized(f"{name}: {where}{message}")
    if kind == "NOT_FOUND":
        return Rejected(f"{name}: {where}{message}")
    return Unreachable(f"{name}: {where}GraphQL: {message}")


def listed(node: Json) -> Listed:
    """A `listing_query` alias as REST-shaped deployments, newest first."""
    deps = node["deployments"]
    envs = [str(e["name"]) for e in (node.get("environments") or {}).get("nodes") or []]
    return Listed(
        [deployment(d) for d in deps["nodes"]], envs, bool(deps["pageInfo"]["hasNextPage"])
    )


def deployment(node: Json) -> dict[str, Any]:
    """A Deployment node as the REST deployment object (`latest_status` added)."""
    ref = node.get("ref") or {}
    status = node.get("latestStatus")
    return {
        "id": int(node["databaseId"]),
        "environment": node.get("environment"),
        "created_at": node["createdAt"],
        "updated_at": node.get("updatedAt"),
        "sha": str(node.get("commitOid") or ""),
        # REST gives the ref as sent; a deployment of a bare sha has no Ref object.
        "ref": ref.get("name") or str(node.get("commitOid") or ""),
        "task": node.get("task"),
        "description": node.get("description"),
        "payload": _payload(node.get("payload")),
        "creator": {"login": str((node.get("creator") or {}).get("login") or "")},
        "latest_status": _status(status) if isinstance(status, Mapping) else None,
    }


def _status(node: Json) -> dict[str, Any]:
    return {
        "state": str(node.get("state") or "").lower(),  # REST spells the enum lower-case
        "created_at": node.get("createdAt"),
        "description": node.get("description"),
    }


def _payload(raw: object) -> object:
    """GraphQL hands the payload over as a JSON string; REST as the object."""
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {}
