"""Connectors for tests (scripted, hanging, failing, secret-taking) and fact factories."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING

from cockpit.connect.options import Secret
from cockpit.connector import Capability, Connector
from cockpit.errors import RateLimited, Unreachable
from cockpit.model import Deployment, Health, Observation, PipelineRun, Stage, Status

if TYPE_CHECKING:
    from cockpit.clock import FixedClock
    from cockpit.fleet.hub import Hub
    from cockpit.fleet.snapshot import FleetSnapshot

# The one fixed instant of the test suite: a Thursday, 03:00 UTC (on-call hours).
T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@dataclass
class SecretOptions:
    token: Secret
    url: str = "https://example.invalid"


class SecretConnector(Connector):
    """Declares a secret option; reports nothing."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    Options = SecretOptions

    async def deployments(self) -> Sequence[Deployment]:
        return ()


@dataclass
class ScriptOptions:
    mode: str = "ok"  # ok, hang, fail, ratelimit
    services: list[str] = field(default_factory=lambda: ["web"])
    version: str = "1.0.0"


class ScriptedConnector(Connector):
    """Answers, hangs, fails or rate-limits on purpose, counting its polls."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    Options = ScriptOptions
    USES_HTTP = False

    def __init__(self, *a: object, **kw: object) -> None:
        super().__init__(*a, **kw)  # type: ignore[arg-type]
        self.polls = 0
        self.active = 0
        self.max_active = 0

    async def poll(self) -> Observation:
        self.polls += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            mode = self.options.mode
            if mode == "hang":
                await asyncio.Event().wait()
            if mode == "fail":
                raise Unreachable("scripted failure")
            if mode == "ratelimit":
                raise RateLimited("scripted rate limit", retry_after=120)
            now = self.clock.now()
            deps = tuple(
                Deployment(
                    service=s,
                    environment="prod",
                    version=self.options.version,
                    digest="sha256:" + "0" * 64,
                    deployed_at=now - timedelta(hours=1),
                    deployed_by="ci",
                    status=Status.SUCCEEDED,
                    health=Health.HEALTHY,
                    source=self.name,
                    observed_at=now,
                )
                for s in self.options.services
            )
            return Observation(source=self.name, observed_at=now, deployments=deps)
        finally:
            self.active -= 1


def entry_points_with_fakes() -> dict[str, EntryPoint]:
    from importlib.metadata import entry_points

    from cockpit.connect import plugins

    eps = {ep.name: ep for ep in entry_points(group=plugins.GROUP)}
    for name, target in (
        ("fake-secret", "tests.fakes:SecretConnector"),
        ("scripted", "tests.fakes:ScriptedConnector"),
    ):
        eps[name] = EntryPoint(name=name, value=target, group=plugins.GROUP)
    return eps


def pipeline_run(now: datetime, **fields: object) -> PipelineRun:
    """A finished run of web 2.0.0 queued an hour before `now`; `fields` override any field."""
    defaults: dict[str, object] = {
        "id": "web#7",
        "service": "web",
        "pipeline": "release",
        "number": 7,
        "status": Status.SUCCEEDED,
        "stages": (Stage("build", Status.SUCCEEDED),),
        "author": "carol",
        "commit": "abc1234def",
        "message": "m",
        "branch": "main",
        "queued_at": now - timedelta(hours=1),
        "source": "ci",
        "observed_at": now,
        "version": "2.0.0",
    }
    return PipelineRun(**{**defaults, **fields})  # type: ignore[arg-type]


async def polled_demo(
    clock: FixedClock, polls: int, *listeners: object
) -> tuple[Hub, list[weakref.ref[FleetSnapshot]]]:
    """The built-in demo's hub (12 services, seed 7) refreshed `polls` times 15 s apart,
    `listeners` subscribed first; with weak references to every snapshot it published."""
    from cockpit import config
    from cockpit.wiring import make_hub

    hub = make_hub(config.load(None, seed=7, scale=12, env={}), clock=clock, live=False)
    published: list[weakref.ref[FleetSnapshot]] = []
    for listener in listeners:
        hub.subscribe(listener)  # type: ignore[arg-type]
    hub.subscribe(lambda snapshot: published.append(weakref.ref(snapshot)))
    await hub.start()
    try:
        for _ in range(polls):
            await hub.refresh()
            clock.advance(15)
    finally:
        await hub.stop()
    return hub, published
