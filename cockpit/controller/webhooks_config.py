"""`webhooks:` in config: the cockpit as the gate GitHub, Argo Rollouts and Flagger wait on.

Plain data and its checks only (stdlib, plus the secret reference type), so loading the
config stays cheap. Each section switches its endpoint on: without `github:` the
controller serves no `/webhooks/github`, without `flagger:` no `/gate/flagger/...`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cockpit.connect.options import Duration, Secret

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


@dataclass
class RetryConfig:
    """How a failed callback to GitHub is tried again: doubling waits from `first` to `max`."""

    first: Duration = Duration(2)
    max: Duration = Duration(300)
    attempts: int = 20  # then it stays failed, visible in Approvals, until the next restart


@dataclass
class GithubGateConfig:
    secret: Secret  # the webhook secret GitHub signs each delivery with (X-Hub-Signature-256)
    # The callback's bearer token: an installation token of the GitHub App whose custom
    # protection rule this is (deployments: read and write).
    token: Secret
    api_url: str = "https://api.github.com"  # a callback URL elsewhere is refused
    services: dict[str, str] = field(default_factory=dict)  # owner/repo -> service
    environments: dict[str, str] = field(default_factory=dict)  # GitHub env -> ours
    retry: RetryConfig = field(default_factory=RetryConfig)


@dataclass
class ArgoRolloutsGateConfig:
    enabled: bool = True  # serve /gate/argo-rollouts/<service>/<environment>


@dataclass
class FlaggerGateConfig:
    # namespace/name of a Canary -> service/environment
    canaries: dict[str, str] = field(default_factory=dict)


@dataclass
class WebhooksConfig:
    # A verdict resting on samples older than this is no evidence: the answer is "wait".
    max_verdict_age: Duration = Duration(300)
    github: GithubGateConfig | None = None
    argo_rollouts: ArgoRolloutsGateConfig | None = None
    flagger: FlaggerGateConfig | None = None

    @property
    def any(self) -> bool:
        return any((self.github, self.argo_rollouts, self.flagger))


def github_environment(cfg: GithubGateConfig, name: str) -> str:
    """The cockpit environment a GitHub environment name maps to (itself when not mapped)."""
    return cfg.environments.get(name, name)


def flagger_target(cfg: FlaggerGateConfig, namespace: str, name: str) -> tuple[str, str] | None:
    """(service, environment) of a Flagger canary, or None when config does not map it."""
    found = cfg.canaries.get(f"{namespace}/{name}")
    if found is None:
        return None
    service, _, environment = found.partition("/")
    return service, environment


def problems(
    cfg: WebhooksConfig, environments: Collection[str] | None
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(place under webhooks, why) for each thing wrong; `environments` None skips the
    cross-check (the environments section has its own problem already)."""
    if cfg.max_verdict_age <= 0:
        yield ("max_verdict_age",), "must be more than zero"
    gh = cfg.github
    if gh is not None:
        api = urlsplit(gh.api_url)
        if api.scheme != "https" and api.hostname not in ("127.0.0.1", "localhost", "::1"):
            yield ("github", "api_url"), "must be an https URL (http only for a loopback test)"
        if not api.hostname:
            yield ("github", "api_url"), f"not a URL: {gh.api_url!r}"
        if not gh.services:
            yield ("github", "services"), "map at least one owner/repo to a service"
        for repo, service in gh.services.items():
            if not _REPO.match(repo):
                yield ("github", "services", repo), "keys are owner/repo"
            if not service.strip():
                yield ("github", "services", repo), "the service name is empty"
        for name, ours in gh.environments.items():
            if environments is not None and ours not in environments:
                yield ("github", "environments", name), f"unknown environment {ours!r}"
        r = gh.retry
        if r.first <= 0:
            yield ("github", "retry", "first"), "must be more than zero"
        if r.max < r.first:
            yield ("github", "retry", "max"), "must be at least retry.first"
        if r.attempts < 1:
            yield ("github", "retry", "attempts"), "must be at least 1"
    fl = cfg.flagger
    if fl is not None:
        if not fl.canaries:
            yield ("flagger", "canaries"), "map at least one namespace/name to service/environment"
        for key, target in fl.canaries.items():
            if not _K8S_NAME.match(key):
                yield ("flagger", "canaries", key), "keys are namespace/name of a Flagger Canary"
            service, sep, env = target.partition("/")
            if not sep or not service.strip() or not env.strip():
                yield ("flagger", "canaries", key), "values are service/environment"
            elif environments is not None and env not in environments:
                yield ("flagger", "canaries", key), f"unknown environment {env!r}"
