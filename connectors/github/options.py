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
            "help": "REST requests in flight at once (1 to 99; GraphQL queries run beside them, "
            "up to 4 but never over 100 in all); GitHub allows 100 per user or app, so leave "
            "room for other tools."
        },
    )
    # Supply-chain evidence (docs/connectors/github.md); none is fetched unless one is set.
    attestations: bool = field(
        default=False,
        metadata={
            "help": "Fetch the artifact attestations (Sigstore bundles) of each deployed image "
            "digest (a deployment payload's digest) for the provenance gate."
        },
    )
    sbom_artifact: str = field(
        default="",
        metadata={
            "help": "The workflow artifact holding the SBOM (files *.cdx.json, *.spdx.json, "
            "*bom*.json) for the licence gate."
        },
    )
    junit_artifact: str = field(
        default="",
        metadata={
            "help": "The workflow artifact holding JUnit XML reports (*.xml) for the tests gate."
        },
    )
    sarif_artifact: str = field(
        default="",
        metadata={
            "help": "The workflow artifact holding SARIF files (*.sarif, *.json) for the scans gate."
        },
    )
    sbom_asset: str = field(
        default="",
        metadata={
            "help": 'The release asset that is the SBOM, e.g. "sbom.cdx.json" (release tag: tag_template).'
        },
    )
    tag_template: str = field(
        default="{version}",
        metadata={"help": 'The release tag of a version for sbom_asset, e.g. "v{version}".'},
    )
    sbom_url: str = field(
        default="",
        metadata={
            "help": "Where a version's SBOM is, e.g. https://sbom.example/{service}/{version}.cdx.json "
            "({service}, {version}, {sha}, {repo}); fetched without the GitHub token."
        },
    )
    code_scanning: bool = field(
        default=False,
        metadata={
            "help": "Fetch the open code-scanning alerts of each version's branch or tag for the scans gate."
        },
    )
    evidence_runs: int = field(
        default=3,
        metadata={
            "help": "Evidence is fetched for the versions of this many newest runs per repository "
            "(1 to 20), and for every deployed version."
        },
    )
    test_history_runs: int = field(
        default=10,
        metadata={
            "help": "With junit_artifact: JUnit reports are also read from this many newest "
            "completed runs (0 to 100), so flaky tests are found across runs and re-runs."
        },
    )
    max_evidence_bytes: int = field(
        default=16 << 20,
        metadata={
            "help": "The largest evidence download (an artifact zip, an SBOM) and the most "
            "inflated from one zip, in bytes; bigger ones are refused as a problem."
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
        if not 1 <= self.evidence_runs <= 20:
            raise ValueError("evidence_runs must be between 1 and 20")
        if not 0 <= self.test_history_runs <= 100:
            raise ValueError("test_history_runs must be between 0 and 100")
        if not 1024 <= self.max_evidence_bytes <= 1 << 30:
            raise ValueError("max_evidence_bytes must be between 1024 and 1073741824 (1 GiB)")
        for name, template in (("tag_template", self.tag_template), ("sbom_url", self.sbom_url)):
            problem = template_problem(template)
            if problem:
                raise ValueError(f"{name}: {problem}")
        if self.sbom_url and not self.sbom_url.startswith(("https://", "http://")):
            raise ValueError("sbom_url must be an http(s) URL template")
        unknown = set(self.services) - {r.repo for r in self.repositories}
        if unknown:
            raise ValueError(f"services names repositories not watched: {sorted(unknown)}")

    @property
    def wants_evidence(self) -> bool:
        """Whether any supply-chain evidence is configured."""
        return bool(
            self.attestations
            or self.code_scanning
            or self.sbom_artifact
            or self.junit_artifact
            or self.sarif_artifact
            or self.sbom_asset
            or self.sbom_url
        )

    def service(self, repo: Repository) -> str:
        return repo.service or self.services.get(repo.repo) or repo.repo.split("/", 1)[1]

    def environment(self, github_name: str) -> str:
        """The cockpit environment for a GitHub environment (names compare case-insensitively)."""
        if github_name in self.environments:
            return self.environments[github_name]
        lowered = {k.lower(): v for k, v in self.environments.items()}
        key = github_name.lower()
        return lowered.get(key) or DEFAULT_ENVIRONMENTS.get(key) or github_name


TEMPLATE_FIELDS = ("service", "version", "sha", "repo")


def template_problem(template: str) -> str:
    """Why `template` cannot be filled with TEMPLATE_FIELDS, or "" when it can."""
    try:
        fill(template, service="s", version="1", sha="0", repo="o/r")
    except (KeyError, IndexError, ValueError) as exc:
        return f"{template!r} is not a template of {{{'}, {'.join(TEMPLATE_FIELDS)}}} ({exc})"
    return ""


def fill(template: str, **values: str) -> str:
    """A template filled by name only: attribute and index lookups are refused."""
    import string

    out = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS or spec or conversion:
            raise ValueError(f"unknown field {{{name}}}")
        out.append(values[name])
    return "".join(out)
