"""Where a live log starts once its oldest records are sealed into archive segments.

A sealed live log no longer begins at record 1 with the genesis hash: it begins at the record
after the last sealed one, whose prev_hash is that record's hash. Only an `audit.seal` record
in the log itself may explain that start (it names the sealed range and its head hash), so a
log whose first records were simply deleted still fails verify. The archive side (are the
segments there, intact, linked?) is `audit verify`'s spanning check in cockpit.audit.span.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from cockpit.audit import canonical as c
from cockpit.audit.events import EventType
from cockpit.audit.records import AuditError

if TYPE_CHECKING:
    from cockpit.audit.checkpoint import Checkpoint

SEAL = str(EventType.AUDIT_SEALED)


def live_start(
    conn: sqlite3.Connection, checkpoint: Checkpoint | None
) -> tuple[tuple[int, bytes], str]:
    """(first seq, the prev_hash it must carry) of the live log, and what is wrong ('' if fine).

    An unsealed log starts at (1, genesis). A sealed one starts where a successful seal record
    in the log says the sealed range ended. A checkpoint inside the sealed range cannot be
    checked against the live log alone.
    """
    row = conn.execute("SELECT seq, prev_hash FROM audit_log ORDER BY seq LIMIT 1").fetchone()
    if row is None or row[0] == 1:
        return (1, c.GENESIS), ""
    first, prev = int(row[0]), bytes(row[1])
    sealed_to = first - 1
    seals = conn.execute(
        "SELECT CAST(body AS BLOB) FROM audit_log WHERE event_type = ? AND seq >= ?", (SEAL, first)
    )
    if not any(_seals(body, sealed_to, prev) for (body,) in seals):
        why = (
            f"missing: the log starts at record {first} and no audit.seal record in it says "
            f"records 1 to {sealed_to} were sealed into a segment (deleted?)"
        )
        return (1, c.GENESIS), why
    if checkpoint is not None and 0 < checkpoint.size < sealed_to:
        why = (
            f"the checkpoint's record {checkpoint.size} is sealed into an archive segment: "
            "the live log alone cannot check it (verify reads the archive when it is there)"
        )
        return (first, prev), why
    return (first, prev), ""


def _seals(body: bytes, through: int, head: bytes) -> bool:
    """Whether the record `body` is a successful seal of records up to `through` ending in `head`."""
    try:
        data = json.loads(body)
        extra = data["extra"]
        return bool(
            data["outcome"] == "success"
            and extra["last_seq"] == through
            and extra["head_hash"] == head.hex()
        )
    except (ValueError, KeyError, TypeError):
        return False


def drop_prefix(conn: sqlite3.Connection, through: int, head_hash: str) -> int:
    """Delete records 1..`through` (already sealed); the caller holds the write transaction.

    Refused unless record `through` is still there with `head_hash`: what was sealed and
    verified is exactly what leaves the live log.

    The append-only DELETE trigger is dropped and re-created inside that same transaction, so
    no other connection ever sees the log without it, and a rollback restores both.
    """
    row = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (through,)).fetchone()
    if row is None or bytes(row[0]).hex() != head_hash:
        raise AuditError(f"record {through} is not the sealed one: nothing deleted")
    sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_log_no_delete'"
    ).fetchone()
    if sql is None:
        raise AuditError("the append-only trigger audit_log_no_delete is missing")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    deleted = conn.execute("DELETE FROM audit_log WHERE seq <= ?", (through,)).rowcount
    conn.execute(sql[0])
    return int(deleted)
