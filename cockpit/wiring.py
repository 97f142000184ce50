"""Putting the parts together: hub, policy, audit journal and executor, for the TUI and the CLI."""

from __future__ import annotations

from typing import Any

from cockpit.clock import Clock, SystemClock
from cockpit.config import ConnectorSpec, Settings
from cockpit.executor import Executor
from cockpit.hub import ClientFactory, Hub, default_client
from cockpit.journal import Journal
from cockpit.policy import Policy, operator_for
from cockpit.twoperson import TWO_PERSON_SOURCE, TwoPersonConnector, TwoPersonOptions


def open_journal(settings: Settings, clock: Clock) -> Journal:
    from cockpit.audit import open_store

    return Journal(lambda: open_store(settings.audit.path, clock=clock))


def wire(
    settings: Settings,
    *,
    actor: Any,
    clock: Clock | None = None,
    read_only: bool = False,
    client_factory: ClientFactory = default_client,
    journal: Journal | None = None,
    hub: Hub | None = None,
) -> tuple[Hub, Executor, Journal]:
    clock = clock or SystemClock()
    journal = journal or open_journal(settings, clock)
    two_person = ConnectorSpec(
        TWO_PERSON_SOURCE, "two-person", TwoPersonConnector, TwoPersonOptions(journal), 3.0, 10.0, 60.0
    )
    hub = hub or Hub(
        [*settings.connectors, two_person], settings.environments, clock=clock, client_factory=client_factory
    )
    policy = Policy(
        settings.policy,
        production=[e.name for e in settings.environments if e.production],
        read_only=read_only,
        read_only_envs=settings.read_only_envs,
    )
    executor = Executor(hub, policy, journal, actor=actor, operator=operator_for(actor.user), clock=clock)
    return hub, executor, journal
