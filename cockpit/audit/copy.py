"""`cockpit audit copy --from FILE.sqlite3 [--to URL]`: move a personal log into the team store.

Every record goes over byte for byte (seq, prev_hash, hash and the canonical body), so the
chain and any checkpoint of the personal log still hold. The source is verified first
(a damaged log is not copied), the team log must be empty (nothing is merged or
renumbered), the rows go in one transaction, and the team log is verified afterwards and
must end on the source's head. Then the copy itself is recorded in the team log.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from cockpit import __version__
from cockpit.actions.identity import current_actor
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditError, DamagedLog
from cockpit.audit.sqlite import SqliteStore
from cockpit.audit.sqlite_file import connect_read_only
from cockpit.audit.verify import Row
from cockpit.cli.exits import Exit
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.audit.commands import Context

LONG_COPY = 50_000  # records from which progress is shown on stderr


def copy(ctx: Context) -> int:
    from cockpit.audit.postgres import PostgresStore
    from cockpit.team.cli import configured_store

    args = ctx.args
    source_path = str(args.source)
    destination = configured_store(args, args.to)
    with SqliteStore(source_path, clock=ctx.clock, read_only=True) as source:
        checked = source.verify(progress=_progress("verifying the source"))
        origin = source.origin
    if not checked.ok:
        raise DamagedLog(f"{source_path} is not copied: {checked.describe()}")
    with PostgresStore(destination, clock=ctx.clock, create=False) as team:
        show = _progress("copying", checked.count)
        copied = team.bulk_load(_rows(source_path, checked.count), progress=show)
        show(copied, checked.count)
        result = team.verify(progress=_progress("verifying the copy", copied))
        print(clean(f"copied {copied} records from {source_path} into {team.path}"))
        print(clean(result.describe()))
        if not result.ok or result.count != checked.count or result.head_hash != checked.head_hash:
            if result.ok:
                print(clean(f"the copy ends at record {result.count}, head {result.head_hash}; "
                            f"the source at {checked.count}, head {checked.head_hash}"))  # fmt: skip
            return Exit.FAILED
        team.append(
            AuditEvent(
                EventType.AUDIT_COPIED,
                current_actor(__version__),
                None,
                "audit.copy",
                "success",
                extra={
                    "source": source_path,
                    "source_origin": origin,
                    "records": copied,
                    "head_hash": result.head_hash,
                },
            )
        )
    return Exit.OK


def _rows(path: str, through: int) -> Iterator[Row]:
    """The source's stored rows 1..`through` as they are (the verified ones), in seq order;
    a log whose first records were sealed into archive segments is refused."""
    conn = connect_read_only(path)
    try:
        conn.execute("BEGIN")
        first = conn.execute("SELECT min(seq) FROM audit_log").fetchone()[0]
        if first not in (None, 1):
            raise AuditError(
                f"{path} starts at record {first} (older ones are sealed in archive "
                "segments): copying a sealed log into the team store is not supported yet"
            )
        rows = conn.execute(
            "SELECT seq, CAST(prev_hash AS BLOB), CAST(hash AS BLOB), CAST(body AS BLOB)"
            " FROM audit_log WHERE seq <= ? ORDER BY seq",
            (through,),
        )
        for seq, prev_hash, hash_, body in rows:
            yield seq, bytes(prev_hash), bytes(hash_), bytes(body)
    except sqlite3.DatabaseError as exc:
        raise DamagedLog(f"cannot read {path}: {exc}") from None
    finally:
        conn.close()


def _progress(what: str, total: int = 0) -> Callable[[int, int], None]:
    """Progress on stderr (redrawn on a terminal) for a job of LONG_COPY records or more."""
    tty = sys.stderr.isatty()

    def show(done: int, of: int) -> None:
        of = of or total
        if of < LONG_COPY:
            return
        start, end = ("\r", "\n" if done >= of else "") if tty else ("", "\n")
        sys.stderr.write(f"{start}{what}: {done:,}/{of:,} records{end}")
        sys.stderr.flush()

    return show
