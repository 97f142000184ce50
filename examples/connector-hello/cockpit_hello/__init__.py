"""A minimal third-party connector: what runs where, read from one JSON endpoint.

The service answers `GET /deployments` with
`[{"service": "shop", "environment": "prod", "version": "1.4.2", "deployed_at": "..."}]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from cockpit.connect.options import Secret
from cockpit.connector import API_VERSION, Capability, Connector
from cockpit.errors import Rejected, Unauthorized, Unreachable
from cockpit.model import Deployment, Health, Status


@dataclass
class HelloOptions:
    """Where the endpoint is and how to read it."""

    url: str = field(
        metadata={"help": "The service's address, e.g. https://hello.example.com.", "format": "url"}
    )
    token: Secret | None = field(
        default=None, metadata={"help": "A bearer token, as env:VAR or keyring:service/name."}
    )
    environments: list[str] = field(
        default_factory=list, metadata={"help": "Only these environments; empty: every one."}
    )

    def validate(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or http://)")


class HelloConnector(Connector):
    """Deployments from a JSON endpoint; no actions."""

    API_VERSION = API_VERSION
    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    Options = HelloOptions
    DESCRIPTION = "Hello: deployments from one JSON endpoint (an example connector)"

    options: HelloOptions

    async def deployments(self) -> Sequence[Deployment]:
        assert self.client is not None  # USES_HTTP: the hub passes one
        headers = {}
        if self.options.token is not None:
            headers["Authorization"] = f"Bearer {self.options.token.reveal()}"
        url = self.options.url.rstrip("/") + "/deployments"
        try:
            resp = await self.client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise Unreachable(f"{self.name}: {type(exc).__name__}") from None
        if resp.status_code in (401, 403):
            raise Unauthorized(f"{self.name}: the token was refused (HTTP {resp.status_code})")
        if resp.status_code >= 500:
            raise Unreachable(f"{self.name}: HTTP {resp.status_code}")
        if resp.status_code == 404:
            return ()  # nothing deployed yet
        if resp.status_code != 200:
            raise Rejected(f"{self.name}: HTTP {resp.status_code}")
        now = self.clock.now()
        wanted = set(self.options.environments)
        return tuple(
            Deployment(
                service=str(item["service"]),
                environment=str(item["environment"]),
                version=str(item["version"]),
                digest="",
                deployed_at=datetime.fromisoformat(item["deployed_at"]),
                deployed_by=str(item.get("deployed_by", "")),
                status=Status.SUCCEEDED,
                health=Health.UNKNOWN,
                source=self.name,
                observed_at=now,
            )
            for item in resp.json()
            if not wanted or item["environment"] in wanted
        )
