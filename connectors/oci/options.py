"""The OCI registry connector's options: the registry, how repositories are named, how to log in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cockpit.connect.http_tls import NetworkOptions
from cockpit.connect.options import Secret

# OCI distribution spec: a repository name, path components joined by "/".
NAME = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*")


@dataclass
class OciOptions(NetworkOptions):
    """Where the registry is, which repository holds each service's images, and auth."""

    url: str = field(
        metadata={
            "help": "The registry's address, e.g. https://ghcr.io (without /v2).",
            "format": "url",
        }
    )
    repository: str = field(
        default="{service}",
        metadata={
            "help": 'The repository of a service\'s images, e.g. "acme/{service}" '
            "({service} is the cockpit's service name)."
        },
    )
    services: list[str] = field(
        default_factory=list,
        metadata={"help": "Services whose images are in this registry; empty: every service."},
    )
    token: Secret | None = field(
        default=None,
        metadata={
            "help": "A bearer token sent to the registry as is (no token exchange), as "
            "env:VAR or keyring:service/name."
        },
    )
    username: str | None = field(
        default=None,
        metadata={
            "help": "A user (with password) for the registry's token service or basic auth; "
            "without one, anonymous pull tokens are asked for."
        },
    )
    password: Secret | None = field(
        default=None,
        metadata={"help": "That user's password or access token, as env:VAR or keyring:..."},
    )
    verify_tls: bool = field(
        default=True,
        metadata={"help": "Check the registry's TLS certificate; turn off only for a lab."},
    )
    max_evidence_bytes: int = field(
        default=4 << 20,
        metadata={
            "help": "The largest attestation manifest or blob read, in bytes; a bigger one "
            "is refused as a problem."
        },
    )

    def validate(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be an http:// or https:// URL of the registry")
        if parts.username or parts.password:
            raise ValueError("put credentials in username/password or token, not in the url")
        if parts.path.rstrip("/").endswith("/v2"):
            raise ValueError("url is the registry's address, without /v2")
        if self.token is not None and (self.username or self.password):
            raise ValueError("choose one of token or username/password")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        sample = self.repository.replace("{service}", "svc")
        if "{" in sample or "}" in sample or not NAME.fullmatch(sample):
            raise ValueError(
                'repository must be a lowercase repository name, "{service}" allowed, '
                'e.g. "acme/{service}"'
            )
        if not 1024 <= self.max_evidence_bytes <= 1 << 30:
            raise ValueError("max_evidence_bytes must be between 1024 and 1073741824 (1 GiB)")

    def repository_of(self, service: str) -> str | None:
        """The repository of `service`'s images; None when it is not in this registry or
        its name cannot be a repository name."""
        if self.services and service not in self.services:
            return None
        name = self.repository.replace("{service}", service)
        return name if NAME.fullmatch(name) else None
