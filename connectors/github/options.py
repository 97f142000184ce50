"""Options of the GitHub Actions connector and the name mapping they configure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cockpit.connect.http_tls import NetworkOptions
from cockpit.connect.options import Secret

API_URL = "https://api.github.com"

# GitHub environment names people use most, mapped onto the cockpit's default names.
DEFAULT_ENVIRONMENTS = {"production": "prod", "staging": "staging", "development": "dev"}

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")


@dataclass
class Repository:
    """One watched repository, written as "owner/repo" or {repo, service}."""

    repo: str = field(metadata={"help": 'The repository, "owner/repo".'})
    service: str = field(
        default="",
        metadata={
            "help": "The cockpit service it deploys; default: services[repo], else the repository's name."
        },
    )

    @classmethod
    def from_scalar(cls, value: object) -> Repository:
        if not isinstance(value, str):
            raise ValueError('a repository is "owner/repo" or a mapping with "repo"')
        return cls(repo=value)

    def __post_init__(self) -> None:
        if not _REPO.match(self.repo):
            raise ValueError(f'repository {self.repo!r} is not of the form "owner/repo"')


@dataclass
class GitHubOptions(NetworkOptions):
    """What the connector watches and how GitHub's names map onto the cockpit's."""

    token: Secret = field(
        metadata={
            "help": (
                "A token that reads Actions, deployments and environments (and reviews "
                "deployments, for approve and reject): env:VAR or keyring:service/name."
            )
        }
    )
    repositories: list[Repository] = field(
        metadata={"help": 'The repositories to watch, as "owner/repo" or {repo, service}.'}
    )
    base_url: str = field(
        default=API_URL,
        metadata={
            "help": "The REST API root; GitHub Enterprise Server: https://HOST/api/v3.",
            "format": "url",
        },
    )
    services: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": 'Service names by repository ("owner/repo" -> service); default: the repository\'s name.'
        },
    )
    environments: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": (
                "Cockpit environments by GitHub environment name (any case); production, "
                "staging and development map to prod, staging and dev unless given here."
            )
        },
    )
    workflows: list[str] = field(
        default_factory=list,
        metadata={"help": "Workflow file names or ids to follow; empty: every workflow."},
    )
    branch: str = field(
        default="", metadata={"help": "Only runs of this branch; empty: every branch."}
    )
    runs_per_repo: int = field(
        default=20,
        metadata={
            "help": "Recent workflow runs read per repository (1 to 100, GitHub's page size)."
        },
    )
    concurrency: int = field(
        default=50,
        metadata={
            "help": "REST requests in flight at once (1 to 99, a GraphQL query runs beside them); "
            "GitHub allows 100 per user or app, so leave room for other tools."
        },
    )

    def validate(self) -> None:
        if not self.repositories:
            raise ValueError("repositories must name at least one owner/repo")
        names = [r.repo.lower() for r in self.repositories]
        if len(set(names)) != len(names):
            raise ValueError("repositories must not repeat a repository")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        if not 1 <= self.runs_per_repo <= 100:
            raise ValueError("runs_per_repo must be between 1 and 100 (GitHub's page size)")
        if not 1 <= self.concurrency <= 99:
            # GitHub allows at most 100 concurrent requests, REST and GraphQL together;
            # one GraphQL query runs beside the REST requests.
            raise ValueError("concurrency must be between 1 and 99")
        unknown = set(self.services) - {r.repo for r in self.repositories}
        if unknown:
            raise ValueError(f"services names repositories not watched: {sorted(unknown)}")

    def service(self, repo: Repository) -> str:
        return repo.service or self.services.get(repo.repo) or repo.repo.split("/", 1)[1]

    def environment(self, github_name: str) -> str:
        """The cockpit environment for a GitHub environment (names compare case-insensitively)."""
        if github_name in self.environments:
            return self.environments[github_name]
        lowered = {k.lower(): v for k, v in self.environments.items()}
        key = github_name.lower()
        return lowered.get(key) or DEFAULT_ENVIRONMENTS.get(key) or github_name
