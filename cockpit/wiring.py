"""Putting the parts together: hub, policy, audit journal and executor, for the TUI and the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cockpit.actions.twoperson import TWO_PERSON_SOURCE, TwoPersonConnector, TwoPersonOptions
from cockpit.clock import Clock, SystemClock
from cockpit.config import ConnectorSpec, Settings
from cockpit.connect.client import ClientFactory, default_client
from cockpit.fleet.analysis import Analyst
from cockpit.fleet.hub import Hub
from cockpit.journal import Journal

if TYPE_CHECKING:
    from cockpit.actions.executor import Executor


def open_journal(settings: Settings, clock: Clock) -> Journal:
    def opener() -> Any:
        # Imported and opened on the audit thread, while the UI starts.
        from cockpit.audit import open_store

        return open_store(settings.audit.path, clock=clock, store=settings.store)

    return Journal(opener)


def make_hub(
    settings: Settings,
    *,
    clock: Clock,
    client_factory: ClientFactory = default_client,
    extra: tuple[ConnectorSpec, ...] = (),
    live: bool = True,
) -> Hub:
    """The hub over the configured connectors, judging canaries with the config's
    `canary:` section: the TUI, the controller and `cockpit status` all build it here,
    so they give the same verdict for the same data."""
    return Hub(
        [*settings.connectors, *extra],
        settings.environments,
        clock=clock,
        client_factory=client_factory,
        analyst=Analyst(settings.canary),
        live=live,
    )


def wire_hub(
    settings: Settings,
    *,
    clock: Clock,
    client_factory: ClientFactory = default_client,
    journal: Journal | None = None,
    live: bool = True,
) -> tuple[Hub, Journal]:
    """The hub (every configured connector plus the two-person queue) and the journal."""
    journal = journal or open_journal(settings, clock)
    team = settings.store is not None and live
    # In team mode another host's request arrives by NOTIFY (the `team-store` source); the
    # poll is then only the fallback for while that connection is down.
    two_person = ConnectorSpec(
        TWO_PERSON_SOURCE,
        "two-person",
        TwoPersonConnector,
        TwoPersonOptions(journal),
        30.0 if team else 3.0,
        10.0,
        90.0 if team else 60.0,
    )
    extra: tuple[ConnectorSpec, ...] = (two_person,)
    # GitHub protection rules the cockpit gates (built-in webhooks, not built yet, gate none)
    if settings.given("webhooks") and settings.webhooks.github is not None:
        from cockpit.controller.gate_source import GateSource, GateSourceOptions
        from cockpit.controller.github_gate import GATE_SOURCE

        options = GateSourceOptions(journal, settings.policy)
        extra += (ConnectorSpec(GATE_SOURCE, "github-gate", GateSource, options, 5.0, 10.0, 90.0),)
    if team:
        from cockpit.team.listen import live_spec

        extra += (live_spec(settings),)
    hub = make_hub(settings, clock=clock, client_factory=client_factory, extra=extra, live=live)
    if team:
        extra[-1].options.hub = hub
    return hub, journal


def make_executor(
    settings: Settings,
    hub: Hub,
    journal: Journal,
    *,
    actor: Any,
    clock: Clock,
    read_only: bool = False,
) -> Executor:
    from cockpit.actions.executor import Executor
    from cockpit.actions.policy import Policy, operator_for

    policy: Policy
    if settings.store is not None:
        # Team mode: the team's stored policy decides, never this host's file; it is read
        # before each action (cockpit.team.held_policy), refusing all until it has been.
        from cockpit.team.held_policy import HeldPolicy

        policy = HeldPolicy(settings, read_only=read_only)
    else:
        policy = Policy(
            settings.policy,
            production=[e.name for e in settings.environments if e.production],
            read_only=read_only,
            read_only_envs=settings.read_only_envs,
            people=settings.identities,
            systems={c.name: c.type for c in settings.connectors},
        )
    identify = None
    if settings.store is not None:  # the team store names the actor (cockpit.team.identity)
        from cockpit.team.identity import identifier

        identify = identifier(settings, actor)
    return Executor(
        hub,
        policy,
        journal,
        actor=actor,
        operator=operator_for(actor.user),
        clock=clock,
        identity=settings.identity,
        identify=identify,
    )


def wire(
    settings: Settings,
    *,
    actor: Any,
    clock: Clock | None = None,
    read_only: bool = False,
    client_factory: ClientFactory = default_client,
    journal: Journal | None = None,
    live: bool = True,
) -> tuple[Hub, Executor, Journal]:
    clock = clock or SystemClock()
    hub, journal = wire_hub(
        settings, clock=clock, client_factory=client_factory, journal=journal, live=live
    )
    executor = make_executor(settings, hub, journal, actor=actor, clock=clock, read_only=read_only)
    return hub, executor, journal
