"""The Grafana connector's options, validated from config."""

from __future__ import annotations

from dataclasses import dataclass, field

from cockpit.connect.http_tls import NetworkOptions
from cockpit.connect.options import Duration, Secret

LOOKBACK = Duration(6 * 3600)
LIMIT = 500
MAX_LIMIT = 10_000  # a page of annotations is ~300 bytes each: 3 MB, well under the body cap


@dataclass
class GrafanaOptions(NetworkOptions):
    """Where Grafana is, its service-account token, what is read and what is annotated."""

    url: str = field(
        metadata={
            "help": "Grafana's address, e.g. https://grafana.example.com (without /api).",
            "format": "url",
        }
    )
    token: Secret = field(
        metadata={"help": "A service-account token with annotations:read and annotations:create."}
    )
    org_id: int | None = field(
        default=None,
        metadata={"help": "The organization, sent as X-Grafana-Org-Id; default: the token's own."},
    )
    dashboard_uid: str = field(
        default="",
        metadata={"help": "Annotate this dashboard; empty: organization-wide annotations."},
    )
    tags: list[str] = field(
        default_factory=list,
        metadata={"help": "Tags added to every annotation the cockpit writes."},
    )
    lookback: Duration = field(
        default=LOOKBACK, metadata={"help": "How far back annotations are read."}
    )
    limit: int = field(
        default=LIMIT,
        metadata={"help": "At most this many annotations a read, the newest (1 to 10000)."},
    )
    environments: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Only actions in these environments are annotated; empty: every environment."
        },
    )
    verify_tls: bool = field(
        default=True,
        metadata={"help": "Check the server's TLS certificate; turn off only for a lab instance."},
    )

    def validate(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with https:// (or http://)")
        if self.url.rstrip("/").endswith("/api") or "/api/" in self.url:
            raise ValueError("url is Grafana's address, without /api")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        if self.lookback <= 0:
            raise ValueError("lookback must be longer than 0s")
        if self.org_id is not None and self.org_id < 1:
            raise ValueError("org_id must be a positive number")
        if any(not t.strip() for t in self.tags):
            raise ValueError("tags must not be empty")
