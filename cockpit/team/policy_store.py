"""The team's policy versions in PostgreSQL: `cockpit.policy_versions`, append-only.

Who may push is the database's decision first: only `cockpit_policy_admin` holds INSERT on
the table (operators, `cockpit_writer`, may only read it), and triggers refuse UPDATE,
DELETE and TRUNCATE even to a role someone grants more later. The server, not the client,
fills in the version number (the next one, under a transaction lock, so numbers have no
gaps), `pushed_by` (session_user: the authenticated role, whatever the client claims) and
`pushed_at`. The cockpit also asks `pg_has_role` first, to refuse with a clear message and
an audit record instead of a permission error.

Functions take an open psycopg connection (cockpit.team.connect); psycopg itself is
imported only by whoever connects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

TABLE = "cockpit.policy_versions"
ADMIN_ROLE = "cockpit_policy_admin"
READER_ROLE = "cockpit_writer"
# pg_advisory_xact_lock key serialising pushes ("cockpit policy", as two int4 halves).
_LOCK = (0x636B7074, 0x706F6C69)


def ddl() -> list[str]:
    """Idempotent statements creating the table, its triggers and its grants (run by
    `cockpit store init` after the schema and the group roles exist)."""
    return [
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
            number integer PRIMARY KEY CHECK (number > 0),
            digest text NOT NULL CHECK (digest ~ '^[0-9a-f]{{64}}$'),
            pushed_by text NOT NULL DEFAULT session_user,
            pushed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            source text NOT NULL DEFAULT '',
            text text NOT NULL
        )""",
        f"""CREATE OR REPLACE FUNCTION cockpit.policy_version_stamp() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({_LOCK[0]}, {_LOCK[1]});
            NEW.number := (SELECT coalesce(max(number), 0) + 1 FROM {TABLE});
            NEW.pushed_by := session_user;
            NEW.pushed_at := clock_timestamp();
            RETURN NEW;
        END $$""",
        """CREATE OR REPLACE FUNCTION cockpit.policy_versions_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'cockpit.policy_versions is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
        f"""CREATE OR REPLACE TRIGGER policy_version_stamp BEFORE INSERT ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION cockpit.policy_version_stamp()""",
        f"""CREATE OR REPLACE TRIGGER policy_versions_no_change BEFORE UPDATE OR DELETE
        ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION cockpit.policy_versions_append_only()""",
        f"""CREATE OR REPLACE TRIGGER policy_versions_no_truncate BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION cockpit.policy_versions_append_only()""",
        # ALWAYS: they fire under session_replication_role = replica too.
        *(
            f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {name}"
            for name in (
                "policy_version_stamp",
                "policy_versions_no_change",
                "policy_versions_no_truncate",
            )
        ),
        f"REVOKE ALL ON {TABLE} FROM PUBLIC",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {TABLE} FROM {READER_ROLE}, {ADMIN_ROLE}",
        f"GRANT USAGE ON SCHEMA cockpit TO {ADMIN_ROLE}",
        f"GRANT SELECT ON {TABLE} TO {READER_ROLE}",
        f"GRANT SELECT, INSERT ON {TABLE} TO {ADMIN_ROLE}",
    ]


@dataclass(frozen=True)
class StoredVersion:
    """One pushed version, as the server recorded it."""

    number: int
    digest: str
    pushed_by: str
    pushed_at: datetime
    source: str
    text: str

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.number,
            "digest": self.digest,
            "pushed_by": self.pushed_by,
            "pushed_at": self.pushed_at.isoformat().replace("+00:00", "Z"),
            "source": self.source,
        }


class NotAdmin(Exception):
    """The connected role may not push policy (not a member of cockpit_policy_admin)."""

    def __init__(self, role: str, why: str = "") -> None:
        super().__init__(role)
        self.role = role
        self.why = why or f"{role} is not a member of the {ADMIN_ROLE} database role"


_COLUMNS = "number, digest, pushed_by, pushed_at, source, text"


def not_initialised(exc: BaseException) -> bool:
    """Whether `exc` says the policy table is missing (`cockpit store init` not run)."""
    import psycopg

    return isinstance(exc, psycopg.errors.UndefinedTable)


NOT_INITIALISED = "has no policy table: run `cockpit store init` (as the database's owner) first"


def _version(row: Any) -> StoredVersion:
    number, digest, pushed_by, pushed_at, source, text = row
    return StoredVersion(int(number), digest, pushed_by, pushed_at, source, text)


def session_role(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT session_user").fetchone()
    return str(row[0]) if row else ""


def check_admin(conn: psycopg.Connection[Any]) -> str:
    """The session's role when it may push; NotAdmin when not (also when the group role does
    not exist yet: `cockpit store init` makes it)."""
    role = session_role(conn)
    row = conn.execute(
        "SELECT r.oid IS NOT NULL,"
        " r.oid IS NOT NULL AND pg_has_role(session_user, r.oid, 'MEMBER')"
        " FROM (SELECT NULL) AS one LEFT JOIN pg_roles r ON r.rolname = %s",
        (ADMIN_ROLE,),
    ).fetchone()
    conn.rollback()
    if not row or not row[0]:
        raise NotAdmin(role, f"the team store has no {ADMIN_ROLE} role: run `cockpit store init`")
    if not row[1]:
        raise NotAdmin(role)
    return role


def push(
    conn: psycopg.Connection[Any],
    digest: str,
    text: str,
    source: str,
    *,
    then: Callable[[StoredVersion], None] | None = None,
) -> StoredVersion:
    """Store a new version; the server numbers and stamps it. `then(version)` runs before the
    commit (the push's audit record): if it raises, nothing is stored. NotAdmin when the
    database refuses the INSERT."""
    import psycopg

    try:
        with conn.transaction():
            row = conn.execute(
                f"INSERT INTO {TABLE} (number, digest, source, text) VALUES (1, %s, %s, %s)"
                f" RETURNING {_COLUMNS}",
                (digest, source, text),
            ).fetchone()
            assert row is not None
            stored = _version(row)
            if then is not None:
                then(stored)
    except psycopg.errors.InsufficientPrivilege as exc:
        role = session_role(conn)
        raise NotAdmin(role, f"the team store refused {role}'s push: {exc}") from None
    return stored


def newest(conn: psycopg.Connection[Any]) -> StoredVersion | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY number DESC LIMIT 1").fetchone()
    return _version(row) if row else None


def version(conn: psycopg.Connection[Any], number: int) -> StoredVersion | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM {TABLE} WHERE number = %s", (number,)).fetchone()
    return _version(row) if row else None


def history(conn: psycopg.Connection[Any]) -> list[StoredVersion]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY number").fetchall()
    return [_version(r) for r in rows]
