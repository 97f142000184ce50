"""The hello connector runs the cockpit's contract kit, found through its entry point."""

from __future__ import annotations

import httpx

from cockpit.connect import plugins
from cockpit.testing import ConnectorContract

# What the service answers, recorded once.
DEPLOYMENTS = [
    {
        "service": "shop",
        "environment": "prod",
        "version": "1.4.2",
        "deployed_at": "2026-01-15T11:00:00+00:00",
        "deployed_by": "ci",
    },
    {
        "service": "shop",
        "environment": "staging",
        "version": "1.5.0",
        "deployed_at": "2026-01-15T11:30:00+00:00",
    },
]


def recorded(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/deployments":
        return httpx.Response(200, json=DEPLOYMENTS)
    return httpx.Response(404, json={"message": "not found"})


class TestHelloContract(ConnectorContract):
    # Loaded by type name, as the cockpit loads it: this proves the entry point works.
    connector_class = plugins.load("hello")
    options = {"url": "https://hello.example.com", "token": "env:HELLO_TOKEN"}
    env = {"HELLO_TOKEN": "t0ken"}

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(recorded)

    def test_reads_what_runs_where(self) -> None:
        found = self.run(lambda c: c.deployments())
        assert [(d.environment, d.version) for d in found] == [
            ("prod", "1.4.2"),
            ("staging", "1.5.0"),
        ]
