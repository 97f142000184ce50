"""The Argo CD connector's options, validated from config."""

from __future__ import annotations

from dataclasses import dataclass, field

from cockpit.connect.http_tls import NetworkOptions
from cockpit.connect.options import Secret


@dataclass
class ArgoCDOptions(NetworkOptions):
    """Where Argo CD is, how to log in, which applications to follow and how to name them."""

    url: str = field(
        metadata={
            "help": "Argo CD's address, e.g. https://argocd.example.com (without /api/v1).",
            "format": "url",
        }
    )
    token: Secret | None = field(
        default=None,
        metadata={
            "help": "An API token (a local account's or a project role's); or give username and password."
        },
    )
    username: str | None = field(
        default=None,
        metadata={"help": "A local user for a session login (with password), instead of token."},
    )
    password: Secret | None = field(
        default=None, metadata={"help": "That user's password, as env:VAR or keyring:service/name."}
    )
    projects: list[str] = field(
        default_factory=list,
        metadata={"help": "Only applications of these Argo CD projects; empty: every project."},
    )
    applications: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Application name globs to follow (e.g. shop-*); empty: every application."
        },
    )
    services: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "Service names by application name; default: the application's service_label, else its name less an environment suffix."
        },
    )
    environments: dict[str, str] = field(
        default_factory=dict,
        metadata={
            "help": "Cockpit environments by application name, environment_label value, destination namespace or cluster."
        },
    )
    service_label: str = field(
        default="app.kubernetes.io/name",
        metadata={"help": "The application label that names its service."},
    )
    environment_label: str = field(
        default="environment",
        metadata={"help": "The application label that names its environment."},
    )
    stream: bool = field(
        default=True,
        metadata={
            "help": "Follow changes through Argo CD's application stream (server-sent events) between polls."
        },
    )
    verify_tls: bool = field(
        default=True,
        metadata={"help": "Check the server's TLS certificate; turn off only for a lab instance."},
    )
    max_drift_items: int = field(
        default=20,
        metadata={"help": "Drifted fields listed per resource; the rest are counted, not listed."},
    )

    def validate(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with https:// (or http://)")
        if self.url.rstrip("/").endswith("/api/v1"):
            raise ValueError("url is the server's address, without /api/v1")
        session = self.username is not None or self.password is not None
        if self.token is not None and session:
            raise ValueError("give either token, or username and password, not both")
        if session and (self.username is None or self.password is None):
            raise ValueError("a session login needs both username and password")
        if self.token is None and not session:
            raise ValueError("give token, or username and password for a session login")
        if self.max_drift_items < 1:
            raise ValueError("max_drift_items must be at least 1")

    @property
    def session(self) -> bool:
        return self.token is None
