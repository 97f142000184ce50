"""A team store for controller tests: the cockpit schema, the group roles, the lease table.

Until `cockpit store init` collects every part, the tests lay out what the lease needs
themselves; roles are cluster-wide, so each is made only if missing.
"""

from __future__ import annotations

import contextlib
import uuid

import psycopg
from psycopg import sql

from cockpit.controller import lease
from tests.pgserver import PostgresServer

GROUPS = ("cockpit_writer", "cockpit_policy_admin", "cockpit_controller")


def prepare(url: str) -> None:
    """The schema, the group roles and the lease table in the database at `url`."""
    with psycopg.connect(url, autocommit=True) as conn:
        for role in GROUPS:
            # Another test may have made it: roles are cluster-wide.
            with contextlib.suppress(
                psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation
            ):
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        with contextlib.suppress(psycopg.errors.UniqueViolation):
            conn.execute("GRANT cockpit_writer TO cockpit_controller")
        conn.execute("CREATE SCHEMA IF NOT EXISTS cockpit")
        conn.execute("GRANT USAGE ON SCHEMA cockpit TO cockpit_writer, cockpit_controller")
        for statement in lease.ddl():
            conn.execute(statement)


def login(server: PostgresServer, group: str, database_url: str) -> str:
    """A fresh LOGIN role in `group`; the URL of the same database as that role."""
    name = f"{group}_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    server.create_role(name, password, group)
    database = database_url.rsplit("/", 1)[1]
    return server.url(database, name, password)
