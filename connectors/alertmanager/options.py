"""The Alertmanager connector's options: where it is, how to log in, how labels name things."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cockpit.options import Duration, Secret

MIN_SILENCE = Duration(60)  # shorter than a minute ends before a pager would have gone quiet
MAX_SILENCE = Duration(24 * 3600)


@dataclass
class AlertmanagerOptions:
    """Connection and auth, the labels that name a service and an environment, and how long
    a silence the cockpit creates may last."""

    url: str  # the server's address, e.g. http://alertmanager:9093 (without /api/v2)
    bearer_token: Secret | None = None  # for a proxy or web config in front of it
    username: str | None = None
    password: Secret | None = None
    verify_tls: bool = True
    # The first label present wins; an alert naming none is kept with service "".
    service_labels: list[str] = field(default_factory=lambda: ["service", "app"])
    environment_labels: list[str] = field(default_factory=lambda: ["env", "environment"])
    environment: str | None = None  # pin every alert of this Alertmanager to one environment
    severity_label: str = "severity"
    filters: list[str] = field(default_factory=list)  # matchers sent as ?filter=, e.g. team="x"
    max_silence: Duration = MAX_SILENCE  # the longest silence an operator may create

    def validate(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be an http:// or https:// URL of the Alertmanager")
        if parts.username or parts.password:
            raise ValueError("put credentials in username/password, not in the url")
        if self.url.rstrip("/").endswith(("/api/v2", "/api/v1")):
            raise ValueError("url is the server's address, without /api/v2")
        if self.bearer_token is not None and (self.username or self.password):
            raise ValueError("choose one of bearer_token or username/password")
        if (self.username is None) != (self.password is None):
            raise ValueError("basic auth needs both username and password")
        if not self.service_labels:
            raise ValueError("service_labels: give at least one label name")
        if not self.environment_labels and not self.environment:
            raise ValueError("environment_labels: give a label name, or pin `environment`")
        if self.max_silence < MIN_SILENCE:
            raise ValueError(f"max_silence must be at least {MIN_SILENCE:g}s")
        if self.environment == "":
            raise ValueError("environment: leave it out rather than empty")
