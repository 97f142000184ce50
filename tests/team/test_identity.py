"""Team mode's identity: the database role the store authenticated is the actor, mapped to
the operator's name; the OS user is recorded beside it; `db:` role members are checked
against PostgreSQL; and segregation of duties compares authenticated identities."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cockpit import config
from cockpit.actions import targets
from cockpit.actions.executor import Executor
from cockpit.actions.people import PersonConfig
from cockpit.actions.policy import Operator, Policy
from cockpit.audit import Actor, EventType, open_store
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.model import Action
from cockpit.team.identity import identity_of, resolve
from cockpit.team.store_config import StoreConfig
from cockpit.wiring import wire
from tests.pgserver import PostgresServer
from tests.team.kit import group_role, operator_role, store_for
from tests.unit.test_executor import THURSDAY_10AM


def os_actor(user: str) -> Actor:
    return Actor(user=user, host="laptop", ssh_client="", pid=4242, version="test")


async def test_the_actor_is_the_database_role_mapped_to_the_operators_name(
    pg_server: PostgresServer, pg_url: str
) -> None:
    captains = group_role(pg_server, "captains")
    role, url = operator_role(pg_server, pg_url, captains)
    people = {"alice": PersonConfig(db_role=role)}

    who = await resolve(store_for(url), people, os_actor("alice"))
    assert (who.db_role, who.name, who.os_user, who.mismatch) == (role, "alice", "alice", False)
    assert captains in who.db_roles and role not in who.db_roles
    assert not any(r.startswith("pg_") for r in who.db_roles)
    assert who.actor(os_actor("alice")).user == "alice"

    # The same role from another OS login: still alice, and the record says whose keyboard.
    shared = await resolve(store_for(url), people, os_actor("bob"))
    assert shared.name == "alice" and shared.mismatch
    assert shared.record_extra() == {"db_role": role, "os_user": "bob", "identity_mismatch": True}
    assert shared.operator().groups == frozenset()  # bob's OS groups are not alice's

    # A role nobody claims under identities: is its own name.
    unclaimed = await resolve(store_for(url), {}, os_actor("alice"))
    assert unclaimed.name == role and unclaimed.mismatch


async def test_a_db_role_member_in_policy_means_membership_in_postgresql(
    pg_server: PostgresServer, pg_url: str
) -> None:
    captains = group_role(pg_server, "captains")
    _, member_url = operator_role(pg_server, pg_url, captains)
    _, other_url = operator_role(pg_server, pg_url)
    policy = Policy(
        options.parse(
            PolicyConfig,
            {
                "roles": {
                    "captain": [f"db:{captains}"],
                    "ghost": ["db:no_such_role_anywhere"],
                },
                "permissions": {"promote": ["captain"]},
            },
        )
    )
    inside = await resolve(store_for(member_url), {}, os_actor("x"))
    outside = await resolve(store_for(other_url), {}, os_actor("x"))
    assert policy.roles_of(inside.operator()) == {"captain"}
    assert policy.roles_of(outside.operator()) == set()  # fail closed: not a member
    # A db: member never matches an OS group or a name of that spelling.
    spoof = Operator(f"db:{captains}", frozenset({captains, f"db:{captains}"}))
    assert policy.roles_of(spoof) == set()


async def test_an_unreachable_store_leaves_the_identity_unknown(unused_tcp_port: int) -> None:
    from cockpit.audit.records import AuditError

    store = StoreConfig(url=f"postgresql://alice@127.0.0.1:{unused_tcp_port}/cockpit")
    with pytest.raises(AuditError, match=f"127.0.0.1:{unused_tcp_port}/cockpit"):
        await resolve(store, {}, os_actor("alice"))


def test_identity_mapping_without_a_database() -> None:
    people = {"alice": PersonConfig(principal="alice@corp", db_role="alice_pg")}
    assert identity_of("alice_pg", frozenset(), "alice", people).mismatch is False
    # The SSH principal is the same person too.
    assert identity_of("alice_pg", frozenset(), "alice@corp", people).mismatch is False
    assert identity_of("alice_pg", frozenset(), "root", people).mismatch is True
    # The controller acts under the role it was given: no person behind it to mismatch.
    controller = identity_of("cockpit_ctl_a", frozenset(), "cockpit:controller", people)
    assert controller.mismatch is False and controller.os_user == "cockpit:controller"
    # A login that merely looks like one is a person like any other.
    assert identity_of("alice_pg", frozenset(), "cockpit", people).mismatch is True


# Segregation of duties under authenticated identities ----------------------------------------
POLICY: dict[str, Any] = {
    "environments": {"prod": {"two_person": ["rollback"], "unknown_gates": "warn"}}
}


def desk(folder: Path, os_user: str, identify: Any) -> Executor:
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, POLICY),
        audit=config.AuditConfig(str(folder / "audit.sqlite3")),
    )
    clock = FixedClock(THURSDAY_10AM)
    who = os_actor(os_user)
    hub, made, journal = wire(settings, actor=who, clock=clock, live=False)
    journal.call_sync(lambda store: store.head())  # opened, as the app does after its first frame
    return Executor(
        hub,
        made.policy,
        journal,
        actor=who,
        operator=Operator(os_user),
        clock=clock,
        identify=identify,
    )


def as_role(name: str, db_role: str, os_user: str) -> Any:
    async def identify() -> tuple[Actor, Operator, dict[str, Any]]:
        who = identity_of(db_role, frozenset(), os_user, {name: PersonConfig(db_role=db_role)})
        return who.actor(os_actor(os_user)), Operator(who.name), who.record_extra()

    return identify


def log(folder: Path) -> list[Any]:
    store = open_store(str(folder / "audit.sqlite3"), clock=FixedClock(THURSDAY_10AM), create=False)
    try:
        return list(store.records())
    finally:
        store.close()


async def alice_asks_then(tmp_path: Path, os_login: str, identify: Any) -> tuple[list[Any], Any]:
    """Alice (role alice_pg) files a two-person rollback; then `identify`, at OS login
    `os_login`, approves it. The approver's view of the queue and the approval's outcome."""
    first = desk(tmp_path, "alice", as_role("alice", "alice_pg", "alice"))
    second = desk(tmp_path, os_login, identify)
    try:
        await first.hub.refresh()
        built = targets.rollback(first.hub.snapshot, "cart", "prod", None)
        assert isinstance(built, Action)
        outcome = await first.submit(first.plan(built), reason="bad deploy, rolling back")
        assert outcome.status == "pending"

        await second.hub.refresh()
        pending = [a for a in second.hub.snapshot.approvals if a.source == "cockpit"]
        approve = targets.decide(pending[0], targets.ActionKind.APPROVE)
        assert not isinstance(approve, str)
        return pending, await second.submit(second.plan(approve), reason="looks fine to me, go")
    finally:
        for ex in (first, second):
            await ex.hub.stop()
            ex._recorder.audit.close()


async def test_the_requester_cannot_approve_under_another_os_user(tmp_path: Path) -> None:
    pending, outcome = await alice_asks_then(
        tmp_path, "mallory", as_role("alice", "alice_pg", "mallory")
    )
    assert len(pending) == 1 and pending[0].requested_by == "alice"
    assert outcome.status == "refused"
    assert "alice requested this change and cannot approve it" in outcome.message
    records = log(tmp_path)
    asked = next(r for r in records if r.event_type == EventType.APPROVAL_PENDING)
    assert asked.actor.user == "alice" and asked.extra["os_user"] == "alice"
    assert asked.extra["identity_mismatch"] is False
    refused = [r for r in records if r.event_type == EventType.ACTION_REFUSED]
    assert len(refused) == 1
    assert refused[0].actor.user == "alice"
    assert refused[0].extra["os_user"] == "mallory" and refused[0].extra["identity_mismatch"]
    assert refused[0].extra["db_role"] == "alice_pg"
    assert not [r for r in records if r.event_type == EventType.ACTION_SUCCEEDED]


async def test_the_requesters_database_role_cannot_approve_under_another_mapped_name(
    tmp_path: Path,
) -> None:
    """`identities:` is each host's own file: mapping alice's role to another name there must
    not let alice approve her own request. The role the store authenticated decides."""
    _, outcome = await alice_asks_then(tmp_path, "alice", as_role("carol", "alice_pg", "alice"))
    assert outcome.status == "refused"
    assert "database role alice_pg requested this change" in outcome.message
    records = log(tmp_path)
    assert not [r for r in records if r.event_type == EventType.APPROVAL_GRANTED]
    assert not [r for r in records if r.event_type == EventType.ACTION_SUCCEEDED]
    (refused,) = [r for r in records if r.event_type == EventType.ACTION_REFUSED]
    assert refused.actor.user == "carol" and refused.extra["db_role"] == "alice_pg"


async def test_no_action_is_planned_while_the_identity_is_unknown(tmp_path: Path) -> None:
    async def unreachable() -> Any:
        raise ConnectionError("the team store did not answer")

    ex = desk(tmp_path, "alice", unreachable)
    try:
        await ex.hub.refresh()
        built = targets.rollback(ex.hub.snapshot, "cart", "prod", None)
        assert isinstance(built, Action)
        assert ex.plan(built).decision.refused  # before asking: not known yet
        assert "did not answer" in await ex.identify()
        plan = ex.plan(built)
        assert plan.decision.refused
        assert "team store identity unknown" in plan.decision.reasons[-1]
        outcome = await ex.submit(plan, reason="bad deploy, rolling back")
        assert outcome.status == "refused"
    finally:
        await ex.hub.stop()
        ex._recorder.audit.close()
    refused = [r for r in log(tmp_path) if r.event_type == EventType.ACTION_REFUSED]
    assert len(refused) == 1 and "team store identity unknown" in str(refused[0].extra)


def test_a_db_role_member_outside_team_mode_is_refused_at_its_line(tmp_path: Path) -> None:
    from cockpit.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text(
        "environments: [prod]\n"
        "connectors:\n  - {name: demo, type: demo}\n"
        "policy:\n  roles:\n    captain: [alice, 'db:cockpit_captains', 'db:']\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        config.load(str(path), env={})
    text = str(raised.value)
    assert ":6: policy.roles.captain[1]: db:cockpit_captains is a database role's members" in text
    assert "policy.roles.captain[2]: 'db:' names no database role" in text


def test_one_database_role_claimed_by_two_operators_is_refused(tmp_path: Path) -> None:
    from cockpit.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text(
        "environments: [prod]\n"
        "connectors:\n  - {name: demo, type: demo}\n"
        "identities:\n  alice: {db_role: ops}\n  bob: {db_role: ops}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        ConfigError, match=r"identities\.bob\.db_role: db_role 'ops' is already alice's"
    ):
        config.load(str(path), env={})
