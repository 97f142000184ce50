"""The Alertmanager connector's options: where it is, how to log in, how labels name things."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cockpit.connect.http_tls import NetworkOptions
from cockpit.connect.options import Duration, Secret

MIN_SILENCE = Duration(60)  # shorter than a minute ends before a pager would have gone quiet
MAX_SILENCE = Duration(24 * 3600)


@dataclass
class AlertmanagerOptions(NetworkOptions):
    """Connection and auth, the labels that name a service and an environment, and how long
    a silence the cockpit creates may last."""

    url: str = field(
        metadata={
            "help": "The Alertmanager's address, e.g. http://alertmanager:9093 (without /api/v2).",
            "format": "url",
        }
    )
    bearer_token: Secret | None = field(
        default=None,
        metadata={
            "help": "A bearer token, for a proxy or web config in front of the Alertmanager."
        },
    )
    username: str | None = field(
        default=None,
        metadata={"help": "A basic-auth user (with password), instead of bearer_token."},
    )
    password: Secret | None = field(
        default=None, metadata={"help": "That user's password, as env:VAR or keyring:service/name."}
    )
    verify_tls: bool = field(
        default=True,
        metadata={"help": "Check the server's TLS certificate; turn off only for a lab instance."},
    )
    service_labels: list[str] = field(
        default_factory=lambda: ["service", "app"],
        metadata={
            "help": 'Labels that name an alert\'s service; the first present wins, an alert naming none is kept with service "".'
        },
    )
    environment_labels: list[str] = field(
        default_factory=lambda: ["env", "environment"],
        metadata={"help": "Labels that name an alert's environment; the first present wins."},
    )
    environment: str | None = field(
        default=None,
        metadata={
            "help": "Pin every alert of this Alertmanager to one environment (one Alertmanager per environment)."
        },
    )
    severity_label: str = field(
        default="severity",
        metadata={"help": "The label that holds an alert's severity (critical, warning, ...)."},
    )
    filters: list[str] = field(
        default_factory=list,
        metadata={"help": 'Matchers sent as ?filter=, e.g. team="payments"; empty: every alert.'},
    )
    max_silence: Duration = field(
        default=MAX_SILENCE,
        metadata={
            "help": "The longest silence an operator may create from the cockpit (at least 1m)."
        },
    )

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
