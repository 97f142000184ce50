"""Options of the GitLab connector: which instance, which projects, and how names map."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

from cockpit.connect.http_tls import NetworkOptions
from cockpit.connect.options import Secret

# GitLab environment names (or tiers) -> cockpit environments. An empty value ignores the
# environment: review apps are per-branch and would otherwise pass for the dev deployment.
DEFAULT_ENVIRONMENTS = {
    "production": "prod",
    "staging": "staging",
    "development": "dev",
    "review/*": "",
}

_PROJECT = re.compile(r"^[\w.-]+(/[\w.-]+)+$|^\d+$")


@dataclass
class Project:
    """One GitLab project, written as "group/project" or {project, service}."""

    project: str = field(
        metadata={"help": "The project, 'group/project' (subgroups allowed) or its numeric id."}
    )
    service: str = field(
        default="",
        metadata={
            "help": "The cockpit service it deploys; default: services[project], else the project's name."
        },
    )

    @classmethod
    def from_scalar(cls, value: object) -> Project:
        if not isinstance(value, str):
            raise ValueError("a project is 'group/project' or a mapping with 'project'")
        return cls(project=value)


@dataclass
class GitLabOptions(NetworkOptions):
    token: Secret = field(
        metadata={
            "help": "A personal, project or group access token with read_api (api to approve, promote and retry)."
        }
    )
    projects: list[Project] = field(
        metadata={"help": "The projects to watch, as 'group/project' or {project, service}."}
    )
    base_url: str = field(
        default="https://gitlab.com",
        metadata={
            "help": "The instance's address; a self-managed GitLab: https://gitlab.example.com.",
            "format": "url",
        },
    )
    auth: Literal["private-token", "bearer"] = field(
        default="private-token",
        metadata={
            "help": "How the token is sent: the PRIVATE-TOKEN header, or Authorization: Bearer (OAuth tokens)."
        },
    )
    services: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "Service names by project path; default: the project's name."},
    )
    environments: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "Cockpit environments by GitLab environment name, glob (review/*) or tier; an empty value ignores it."
        },
    )
    pipelines_per_project: int = field(
        default=20, metadata={"help": "Recent pipelines read per project (1 to 500)."}
    )
    deployments_per_project: int = field(
        default=100, metadata={"help": "Recent deployments read per project (1 to 500)."}
    )
    concurrency: int = field(default=8, metadata={"help": "Requests in flight at once (1 to 64)."})
    test_reports: bool = field(
        default=False,
        metadata={
            "help": "Read each finished pipeline's test report (every test case) for the tests "
            "gate: failing and flaky tests by name."
        },
    )
    sbom_job: str = field(
        default="",
        metadata={
            "help": "The job whose artifacts archive holds the SBOM (*.cdx.json, *.spdx.json, "
            "*bom*.json, under artifacts:paths) for the licence gate."
        },
    )
    sarif_job: str = field(
        default="",
        metadata={
            "help": "The job whose artifacts archive holds SARIF (*.sarif, *.json, under "
            "artifacts:paths) for the scans gate."
        },
    )
    evidence_pipelines: int = field(
        default=10,
        metadata={
            "help": "The newest finished pipelines per project whose evidence (test reports, "
            "sbom_job and sarif_job artifacts) is read (1 to 100); flaky tests are found across them."
        },
    )
    max_evidence_bytes: int = field(
        default=16 << 20,
        metadata={
            "help": "The largest job artifacts archive read, and the most inflated from one, in "
            "bytes; bigger ones are refused as a problem."
        },
    )

    def validate(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with https:// (or http:// for a local instance)")
        if not self.projects:
            raise ValueError("list at least one project, as 'group/project'")
        seen: set[str] = set()
        for p in self.projects:
            if not _PROJECT.match(p.project):
                raise ValueError(f"project {p.project!r} is not 'group/project' or a numeric id")
            if p.project in seen:
                raise ValueError(f"project {p.project!r} is listed twice")
            seen.add(p.project)
        if not 1 <= self.pipelines_per_project <= 500:
            raise ValueError("pipelines_per_project must be between 1 and 500")
        if not 1 <= self.deployments_per_project <= 500:
            raise ValueError("deployments_per_project must be between 1 and 500")
        if not 1 <= self.concurrency <= 64:
            raise ValueError("concurrency must be between 1 and 64")
        if not 1 <= self.evidence_pipelines <= 100:
            raise ValueError("evidence_pipelines must be between 1 and 100")
        if not 1024 <= self.max_evidence_bytes <= 1 << 30:
            raise ValueError("max_evidence_bytes must be between 1024 and 1073741824 (1 GiB)")

    @property
    def api_root(self) -> str:
        """The REST root: base_url plus /api/v4 (a base_url may already end with it)."""
        root = self.base_url.rstrip("/")
        return root if root.endswith("/api/v4") else root + "/api/v4"

    def service_of(self, project: Project) -> str:
        if project.service:
            return project.service
        return self.services.get(project.project) or project.project.rsplit("/", 1)[-1]

    def environment_names(self) -> frozenset[str]:
        """The GitLab environment names the mapping spells out (glob patterns left out)."""
        mapping = {**DEFAULT_ENVIRONMENTS, **self.environments}
        return frozenset(k for k, v in mapping.items() if v and not any(c in k for c in "*?["))

    def environment_of(self, name: str, tier: str = "") -> str | None:
        """The cockpit environment for a GitLab environment, or None when it is ignored.

        Exact name first, then glob patterns ("review/*"), then the tier, then the name
        itself; configured entries win over the defaults.
        """
        mapping = {**DEFAULT_ENVIRONMENTS, **self.environments}
        if name in mapping:
            return mapping[name] or None
        for pattern, target in mapping.items():
            if any(c in pattern for c in "*?[") and fnmatchcase(name, pattern):
                return target or None
        if tier and tier in mapping:
            return mapping[tier] or None
        return name
