"""Who is acting in team mode: the database role the team store authenticated.

On one host the OS user names the actor; in a team store anyone can set $USER, run under
another login, or share a bastion account, but nobody connects as a PostgreSQL role without
its password (or client certificate). So in team mode the actor recorded, and the operator
policy judges (roles, segregation of duties), is `session_user`, mapped to the operator's
name by `identities: {<name>: {db_role: <role>}}` (a role nobody claims is its own name).
The OS user stays in every record beside it (`os_user`, `db_role`, `identity_mismatch`),
so an auditor sees who sat at which keyboard under whose role.

Roles in policy may name database roles: a member written `db:cockpit_captains` means any
role that is a member of the PostgreSQL role `cockpit_captains` (`pg_has_role(..., 'MEMBER')`,
read once per session). A role that does not exist, or a store that cannot be asked, makes
nobody a member: fail closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cockpit.actions.people import People, PersonConfig
from cockpit.actions.policy import Operator, operator_for

if TYPE_CHECKING:
    from cockpit.audit import Actor
    from cockpit.team.store_config import StoreConfig


# session_user, not current_user: SET ROLE changes the latter, and the login is who it is.
# The roles it is a member of (directly or through others), the built-in pg_* ones left out.
IDENTITY_SQL = (
    "SELECT session_user::text, coalesce(("
    " SELECT array_agg(rolname::text ORDER BY rolname) FROM pg_roles"
    " WHERE pg_has_role(session_user, oid, 'MEMBER')"
    " AND rolname <> session_user AND rolname NOT LIKE 'pg\\_%'"
    "), '{}'::text[])"
)


@dataclass(frozen=True)
class TeamIdentity:
    """The authenticated role, the operator it maps to, and the OS user beside them."""

    db_role: str
    name: str  # the operator's name: identities' key claiming db_role, else db_role
    os_user: str
    mismatch: bool  # the OS user is not (does not map to) the operator the role names
    db_roles: frozenset[str] = frozenset()  # roles db_role is a member of
    os_groups: frozenset[str] = frozenset()  # @group members; only when the OS user is them

    def record_extra(self) -> dict[str, Any]:
        """What goes into every record written under this identity."""
        return {
            "db_role": self.db_role,
            "os_user": self.os_user,
            "identity_mismatch": self.mismatch,
        }

    def operator(self) -> Operator:
        return Operator(self.name, self.os_groups, self.db_roles)

    def actor(self, base: Actor) -> Actor:
        return replace(base, user=self.name)


def name_for(db_role: str, people: Mapping[str, PersonConfig]) -> str:
    """The operator `db_role` belongs to: who claims it under identities:, else itself."""
    for name, person in people.items():
        if person.db_role == db_role:
            return name
    return db_role


# The cockpit's own actors (`cockpit:controller`, `cockpit:auto-rollback`): no person sits
# behind them, so the role they were given is who they are, not a mismatch.
SYSTEM_ACTOR_PREFIX = "cockpit:"


def identity_of(
    db_role: str,
    member_of: frozenset[str],
    os_user: str,
    people: Mapping[str, PersonConfig],
) -> TeamIdentity:
    name = name_for(db_role, people)
    # The OS user is the same person when it is the name itself or maps to it (principal).
    same = People(people).operator(os_user) == name or os_user.startswith(SYSTEM_ACTOR_PREFIX)
    groups = operator_for(os_user).groups if same else frozenset()
    return TeamIdentity(db_role, name, os_user, not same, member_of, groups)


async def resolve(
    store: StoreConfig, people: Mapping[str, PersonConfig], base: Actor
) -> TeamIdentity:
    """Ask the team store who this connection is; AuditError (password-free) if it cannot."""
    from cockpit.team.connect import connect_async, failure

    conn = await connect_async(store, autocommit=True)
    try:
        cursor = await conn.execute(IDENTITY_SQL)
        row = await cursor.fetchone()
    except Exception as exc:
        raise failure(store, exc, "ask who is connected to") from None
    finally:
        await conn.close()
    if row is None:
        raise failure(store, LookupError("no session_user"), "ask who is connected to")
    db_role, roles = row
    return identity_of(str(db_role), frozenset(map(str, roles or ())), base.user, people)


def identifier(settings: Any, base: Actor) -> Any:
    """The executor's `identify` hook for team mode: (actor, operator, record extra)."""
    store = settings.store

    async def identify() -> tuple[Actor, Operator, dict[str, Any]]:
        who = await resolve(store, settings.identities, base)
        return who.actor(base), who.operator(), who.record_extra()

    return identify
