"""The Argo CD connector's options, validated from config."""

from __future__ import annotations

from dataclasses import dataclass, field

from cockpit.options import Secret


@dataclass
class ArgoCDOptions:
    """Where Argo CD is, how to log in, which applications to follow and how to name them."""

    url: str
    token: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    projects: list[str] = field(default_factory=list)
    applications: list[str] = field(default_factory=list)  # name globs; empty: every one
    services: dict[str, str] = field(default_factory=dict)  # application name -> service
    # application name, label value, destination namespace or cluster -> environment
    environments: dict[str, str] = field(default_factory=dict)
    service_label: str = "app.kubernetes.io/name"
    environment_label: str = "environment"
    stream: bool = True
    verify_tls: bool = True
    max_drift_items: int = 20  # per resource; the rest is counted, not listed

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
