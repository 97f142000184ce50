"""Who is who across systems: an operator's OS user, SSH principal and CI logins.

Segregation of duties compares people, not strings: `alice` at the keyboard is `alice-gh`
on GitHub and `asmith` on GitLab. The `identities:` config section says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

MAPPED_SYSTEMS = ("github", "gitlab", "jenkins")  # connector types whose authors are logins
# Built-in sources that report another system's logins: the GitHub protection-rule queue
# (cockpit.controller.gate_source) names the GitHub user whose deployment waits.
BUILT_IN_SYSTEMS = {"github-gate": "github"}


@dataclass
class PersonConfig:
    """One operator's names elsewhere, as written under `identities: {<OS user>: ...}`."""

    principal: str | None = None  # SSH principal (signed approvals, a shared two-person log)
    github: str | None = None
    gitlab: str | None = None
    jenkins: str | None = None
    db_role: str | None = None  # team mode: the PostgreSQL role they log in to the store as


def problems(config: Mapping[str, PersonConfig]) -> Iterator[tuple[tuple[str, str], str]]:
    """(where, why) for each login claimed by two operators: either could pass as the other."""
    owner: dict[tuple[str, str], str] = {}
    for user, person in config.items():
        for system in ("principal", "db_role", *MAPPED_SYSTEMS):
            login = getattr(person, system)
            if login is None:
                continue
            first = owner.setdefault((system, login), user)
            if first != user:
                yield (
                    (user, system),
                    f"{system} {login!r} is already {first}'s: one login, one operator",
                )


@dataclass(frozen=True)
class People:
    """The identities map, and which system each connector instance speaks for."""

    config: Mapping[str, PersonConfig] = field(default_factory=dict)
    systems: Mapping[str, str] = field(default_factory=dict)  # connector instance -> type

    def system(self, source: str) -> str:
        """The mapped system `source` reports logins of, or "" (its names are operators')."""
        kind = self.systems.get(source) or BUILT_IN_SYSTEMS.get(source, "")
        return kind if kind in MAPPED_SYSTEMS else ""

    def operator(self, name: str) -> str:
        """The operator an OS user, SSH principal or database role names (itself when not
        mapped)."""
        for user, person in self.config.items():
            if name in (user, person.principal, person.db_role):
                return user
        return name

    def author(self, login: str, source: str) -> str | None:
        """The operator behind `login` as `source` reports it; None when nobody claims it."""
        system = self.system(source)
        if not system:
            return self.operator(login)
        return next((u for u, p in self.config.items() if getattr(p, system) == login), None)


DB_MEMBER = "db:"  # a role member naming a PostgreSQL role (team mode, cockpit.team.identity)


def db_member_problems(
    roles: Mapping[str, list[str]], team: bool
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(where under policy.roles, why) for each `db:` member that cannot do what it says:
    an empty role name, or any outside team mode, where no database says who is a member."""
    for role, members in roles.items():
        for i, member in enumerate(members):
            if not member.startswith(DB_MEMBER):
                continue
            if not member[len(DB_MEMBER) :].strip():
                yield (role, i), f"{member!r} names no database role: db:<role>"
            elif not team:
                yield (
                    (role, i),
                    f"{member} is a database role's members: only the team store (store:) "
                    "can say who they are",
                )
