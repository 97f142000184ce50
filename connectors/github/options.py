"""Options of the GitHub Actions connector and the name mapping they configure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cockpit.options import Secret

API_URL = "https://api.github.com"

# GitHub environment names people use most, mapped onto the cockpit's default names.
DEFAULT_ENVIRONMENTS = {"production": "prod", "staging": "staging", "development": "dev"}

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")


@dataclass
class Repository:
    """One watched repository, written as "owner/repo" or {repo, service}."""

    repo: str
    service: str = ""

    @classmethod
    def from_scalar(cls, value: object) -> Repository:
        if not isinstance(value, str):
            raise ValueError('a repository is "owner/repo" or a mapping with "repo"')
        return cls(repo=value)

    def __post_init__(self) -> None:
        if not _REPO.match(self.repo):
            raise ValueError(f'repository {self.repo!r} is not of the form "owner/repo"')


@dataclass
class GitHubOptions:
    """What the connector watches and how GitHub's names map onto the cockpit's."""

    token: Secret
    repositories: list[Repository]
    base_url: str = API_URL  # GitHub Enterprise Server: https://HOST/api/v3
    services: dict[str, str] = field(default_factory=dict)  # "owner/repo" -> service
    environments: dict[str, str] = field(default_factory=dict)  # GitHub env -> cockpit env
    workflows: list[str] = field(default_factory=list)  # workflow file names or ids; all if empty
    branch: str = ""  # only runs of this branch; all if empty
    runs_per_repo: int = 20
    concurrency: int = 50  # GitHub allows 100 in flight per user or app: leave room for others

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
        if not 1 <= self.concurrency <= 100:
            # GitHub's secondary limit allows at most 100 concurrent requests.
            raise ValueError("concurrency must be between 1 and 100")
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
