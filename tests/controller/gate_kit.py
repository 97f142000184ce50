"""A controller's gate endpoints on a real Server, over a real audit log, with a fake GitHub.

Shared by the gate tests (not imported from another test module). The fleet the gates
judge is a crafted snapshot (canary, verdict, sources) held by a small hub stand-in; the
GitHub flow uses the real built-in approvals source and the real executor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx

from cockpit.actions.executor import Executor
from cockpit.actions.people import PersonConfig
from cockpit.actions.policy import Operator, Policy
from cockpit.audit import Actor, open_store
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.controller.gate_source import GateSource, GateSourceOptions
from cockpit.controller.gatekeeper import GateDeps, Gatekeeper
from cockpit.controller.gates_http import mount
from cockpit.controller.github_gate import GATE_SOURCE
from cockpit.controller.http import Router, Server
from cockpit.controller.webhooks_config import WebhooksConfig
from cockpit.fleet.cells import Cell
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.journal import Journal
from cockpit.model import Canary, CanaryPhase, Environment, Verdict
from tests.fakes import T0

FIXTURES = Path(__file__).parent.parent / "fixtures" / "webhooks"
SECRET = "whsec-9f8e7d6c5b4a"
TOKEN = "ghs_FakeInstallationToken0123456789"
ENVIRONMENTS = (Environment("staging", 0, False), Environment("prod", 1, True))


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def actor(user: str) -> Actor:
    return Actor(user=user, host="testhost", ssh_client="", pid=4242, version="test")


def source_ok(name: str, now: datetime, *, stale: bool = False) -> SourceState:
    seen = now - timedelta(minutes=10) if stale else now
    return SourceState(name, "rollouts", True, seen, seen, "", 0, 60.0, capabilities=frozenset())


def canary_cell(
    now: datetime, decision: str, *, sampled: datetime | None = None, source: str = "rollouts"
) -> Cell:
    verdict = Verdict(
        score=95.0 if decision == "pass" else 20.0,
        decision=decision,
        marginal=50.0,
        passing=80.0,
        digest="sha256:" + "ab" * 32,
        reason="",
        observed_at=sampled or now,
    )
    canary = Canary(
        "cart", "prod", "2.7.11", "2.8.0", 3, 6, 25, CanaryPhase.PROGRESSING,
        now - timedelta(minutes=20), source, now, verdict=verdict,
    )  # fmt: skip
    return Cell("cart", "prod", canary=canary, sources=(source,))


class StubHub:
    """What the gate reads of a hub: the snapshot, connectors by name, and poke."""

    def __init__(self, snapshot: FleetSnapshot) -> None:
        self.snapshot = snapshot
        self.connectors: dict[str, Any] = {}
        self.pokes: list[str | None] = []

    @property
    def names(self) -> list[str]:
        return list(self.connectors)

    def connector(self, name: str) -> Any:
        return self.connectors.get(name)

    def poke(self, name: str | None = None) -> None:
        self.pokes.append(name)

    def show(self, **cells: Cell) -> None:
        self.snapshot = replace(
            self.snapshot,
            cells=MappingProxyType({(c.service, c.environment): c for c in cells.values()}),
        )


@dataclass
class FakeGitHub:
    """GitHub's callback endpoint: answers from `script` in turn (then 204), keeps each POST."""

    script: list[int] = field(default_factory=list)
    calls: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        status = self.script.pop(0) if self.script else 204
        return httpx.Response(status)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(c.content) for c in self.calls]


class Rig:
    """The gate endpoints of one controller, served on a free loopback port."""

    def __init__(
        self,
        folder: Path,
        hooks: dict[str, Any],
        policy: dict[str, Any] | None = None,
        people: dict[str, PersonConfig] | None = None,
        store: Any = None,
    ) -> None:
        self.clock = FixedClock(T0)
        self.path = folder / "audit.sqlite3"
        self.store = store  # a StoreConfig (the team store), or None: a SQLite file
        self.journal = Journal(lambda: self.open())
        env = {"HOOK_SECRET": SECRET, "GATE_TOKEN": TOKEN}
        self.config = options.parse(WebhooksConfig, hooks, env=env)
        for secret in options.secrets_of(self.config):
            secret.resolve(env)
        self.policy = Policy(
            options.parse(PolicyConfig, policy or {}),
            production=["prod"],
            # The sender of the recorded delivery is carol's GitHub login: segregation of
            # duties can be checked (production refuses an unmapped author).
            people=people if people is not None else {"carol": PersonConfig(github="octocat")},
        )
        snap = FleetSnapshot.empty(ENVIRONMENTS, T0)
        self.hub = StubHub(replace(snap, sources=MappingProxyType({})))
        self.github = FakeGitHub()
        self.sleeps: list[float] = []
        self.source = GateSource(
            GATE_SOURCE,
            GateSourceOptions(self.journal, self.policy.config),
            client=None,
            clock=self.clock,
        )
        self.hub.connectors[GATE_SOURCE] = self.source
        self.router = Router()
        self.deps = GateDeps(
            self.journal,
            self.hub,
            self.policy,
            self.config,
            self.clock,
            actor("cockpit-controller"),
            client=httpx.AsyncClient(transport=httpx.MockTransport(self.github.handler)),
            sleep=self._sleep,
        )
        self.keeper: Gatekeeper = mount(self.router, self.deps)
        self.server = Server(self.router)
        self.http = httpx.AsyncClient(timeout=10)

    def open(self, create: bool = True) -> Any:
        return open_store(str(self.path), clock=self.clock, create=create, store=self.store)

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)  # backoff recorded, not waited out

    async def __aenter__(self) -> Rig:
        await self.server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.keeper.close()
        await self.server.close()
        await self.http.aclose()
        await self.deps.client.aclose()
        self.journal.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.port}{path}"

    async def deliver(
        self, payload: dict[str, Any], *, delivery: str, event: str = "deployment_protection_rule",
        signature: str | None = "good", body: bytes | None = None,
    ) -> httpx.Response:  # fmt: skip
        raw = body if body is not None else json.dumps(payload).encode()
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                   "Content-Type": "application/json"}  # fmt: skip
        if signature == "good":
            headers["X-Hub-Signature-256"] = signed(raw)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return await self.http.post(self.url("/webhooks/github"), content=raw, headers=headers)

    async def refresh(self) -> None:
        """The approvals source's poll, as the hub would run it, into the snapshot."""
        found = tuple(await self.source.approvals())
        self.hub.snapshot = replace(self.hub.snapshot, approvals=found)

    def executor(self, user: str) -> Executor:
        return Executor(
            self.hub,  # type: ignore[arg-type]
            self.policy,
            self.journal,
            actor=actor(user),
            operator=Operator(user),
            clock=self.clock,
        )

    def records(self) -> list[Any]:
        if self.store is None and not self.path.exists():
            return []  # nothing was ever written
        store = self.open(create=False)
        try:
            return list(store.records())
        finally:
            store.close()

    def kinds(self) -> list[str]:
        return [str(r.event_type) for r in self.records()]
