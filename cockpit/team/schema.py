"""The team store's whole schema: roles, the `cockpit` schema, then each part's tables.

Each team-mode module that needs tables owns its DDL (`def ddl() -> list[str]`, idempotent,
with its GRANTs); this module only puts them in a fixed order. A part whose module does
not exist yet is skipped, so the store can be initialised while the others are built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

SCHEMA = "cockpit"
# Group roles (NOLOGIN); each operator logs in as a role of their own, a member of a group.
ROLES = ("cockpit_writer", "cockpit_policy_admin", "cockpit_controller")
MEMBERSHIPS = (("cockpit_writer", "cockpit_controller"),)  # (group, member)
PARTS = (
    "cockpit.audit.postgres_schema",
    "cockpit.team.policy_store",
    "cockpit.controller.lease",
    "cockpit.controller.gate_store",
)


def _create_role(name: str) -> str:
    # CREATE ROLE has no IF NOT EXISTS; roles are cluster-wide, so another database's
    # `store init` may have made them already.
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN "
        f"CREATE ROLE {name} NOLOGIN; END IF; END $$"
    )


def base_ddl() -> list[str]:
    """Roles and the schema every part's tables live in."""
    statements = [_create_role(role) for role in ROLES]
    statements += [f"GRANT {group} TO {member}" for group, member in MEMBERSHIPS]
    statements += [
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {', '.join(ROLES)}",
    ]
    return statements


def parts() -> list[tuple[str, Callable[[], list[str]]]]:
    """(module, its ddl) of every part that exists, in the fixed order."""
    found = []
    for name in PARTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that part is not built yet
            raise
        found.append((name, module.ddl))
    return found


def statements() -> list[tuple[str, str]]:
    """(part, statement) for the whole store, in the order they must run."""
    out = [("roles and schema", s) for s in base_ddl()]
    for name, ddl in parts():
        out += [(name, s) for s in ddl()]
    return out
