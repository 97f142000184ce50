"""Options of the Jenkins connector: where, who, which jobs, and how names map."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

from cockpit.connect.http_tls import NetworkOptions
from cockpit.connect.options import Secret

# Words in a stage name or input message -> cockpit environments.
DEFAULT_ENVIRONMENTS = {
    "production": "prod",
    "prod": "prod",
    "staging": "staging",
    "stage": "staging",
    "development": "dev",
    "dev": "dev",
}


@dataclass
class JenkinsOptions(NetworkOptions):
    url: str = field(
        metadata={
            "help": "Jenkins' address, e.g. https://ci.example.com (with its context path, if any).",
            "format": "url",
        }
    )
    username: str = field(metadata={"help": "The Jenkins user the API token belongs to."})
    api_token: Secret = field(
        metadata={
            "help": "That user's API token (not the password), as env:VAR or keyring:service/name."
        }
    )
    jobs: list[str] = field(metadata={"help": "Pipeline jobs to watch, folders as 'team/job'."})
    services: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "Service names by job path; default: the job's own name."},
    )
    environments: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "Words in stage names and input messages -> cockpit environments, added to production, staging and dev."
        },
    )
    default_environment: str = field(
        default="prod", metadata={"help": "The environment of a deploy whose stage names none."}
    )
    runs_per_job: int = field(
        default=10, metadata={"help": "Recent builds read per job (1 to 100)."}
    )
    crumb: bool = field(
        default=False,
        metadata={
            "help": "Fetch a CSRF crumb before each POST (Jenkins with CSRF protection and no API-token exemption)."
        },
    )
    reason_parameter: str = field(
        default="REASON",
        metadata={"help": "The input step parameter that receives the operator's reason."},
    )
    ticket_parameter: str = field(
        default="TICKET",
        metadata={"help": "The input step parameter that receives the change ticket."},
    )
    concurrency: int = field(default=8, metadata={"help": "Requests in flight at once (1 to 64)."})
    test_reports: bool = field(
        default=False,
        metadata={
            "help": "Read each finished build's JUnit test report (testReport/api/json) for the "
            "tests gate: failing and flaky tests by name."
        },
    )

    def validate(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with https:// (or http:// for a local Jenkins)")
        if not self.username:
            raise ValueError("username is the Jenkins user the API token belongs to")
        if not self.jobs:
            raise ValueError("list at least one job (folders as 'team/job')")
        for job in self.jobs:
            if not job or job.startswith("/") or job.endswith("/") or "//" in job:
                raise ValueError(f"job {job!r} is not a job path like 'team/job'")
        if len(set(self.jobs)) != len(self.jobs):
            raise ValueError("a job is listed twice")
        if not 1 <= self.runs_per_job <= 100:
            raise ValueError("runs_per_job must be between 1 and 100")
        if not 1 <= self.concurrency <= 64:
            raise ValueError("concurrency must be between 1 and 64")

    @property
    def base(self) -> str:
        return self.url.rstrip("/")

    def service_of(self, job: str) -> str:
        return self.services.get(job) or job.rsplit("/", 1)[-1]

    def environment_in(self, *texts: str) -> str:
        """The first environment a text mentions as a whole word ("Approve prod")."""
        mapping = {**DEFAULT_ENVIRONMENTS, **{k.lower(): v for k, v in self.environments.items()}}
        words = sorted(mapping, key=len, reverse=True)
        for text in texts:
            lowered = text.lower()
            for word in words:
                if re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", lowered):
                    return mapping[word]
        return ""


def job_path(job: str) -> str:
    """ "team/shop" -> "job/team/job/shop", each name URL-encoded."""
    return "/".join(f"job/{quote(name, safe='')}" for name in job.split("/"))
