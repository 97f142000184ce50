"""The Grafana connector's options, validated from config."""

from __future__ import annotations

from dataclasses import dataclass, field

from cockpit.options import Duration, Secret

LOOKBACK = Duration(6 * 3600)
LIMIT = 500
MAX_LIMIT = 10_000  # a page of annotations is ~300 bytes each: 3 MB, well under the body cap


@dataclass
class GrafanaOptions:
    """Where Grafana is, its service-account token, what is read and what is annotated."""

    url: str
    token: Secret  # a service-account token: annotations:read and annotations:create
    org_id: int | None = None  # sent as X-Grafana-Org-Id; default: the token's own org
    dashboard_uid: str = ""  # annotate this dashboard; default: organization annotations
    tags: list[str] = field(default_factory=list)  # added to every annotation written
    lookback: Duration = LOOKBACK  # how far back annotations are read
    limit: int = LIMIT  # at most this many annotations a read (the newest)
    environments: list[str] = field(default_factory=list)  # annotated ones; empty: all
    verify_tls: bool = True

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
