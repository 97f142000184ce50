"""The storage interface every audit backend honours, and where the default log lives."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditRecord, VerifyResult
from cockpit.audit.verify import Progress
from cockpit.clock import Clock

if TYPE_CHECKING:
    from cockpit.team.store_config import StoreConfig


class AuditStore(Protocol):
    """An append-only, hash-chained log: SQLite (one user) or PostgreSQL (team mode)."""

    origin: str  # names this log in its checkpoints
    path: str  # where it is, for messages (a URL without user or password for PostgreSQL)

    def append(self, event: AuditEvent) -> AuditRecord:
        """Chain and store the event; durable on disk before it returns."""
        ...

    def head(self) -> AuditRecord | None: ...

    def records(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        event_types: Iterable[EventType] | None = None,
        service: str | None = None,
        environment: str | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        after_seq: int | None = None,
    ) -> Iterator[AuditRecord]:
        """Records in seq order (or newest first); `since` inclusive, `until` exclusive."""
        ...

    def count(self) -> int: ...

    def nonce_used(self, nonce: str) -> bool:
        """Whether a signed approval with this nonce is already in the log."""
        ...

    def verify(
        self,
        checkpoint: Checkpoint | None = None,
        progress: Progress | None = None,
        *,
        deep: bool = False,
    ) -> VerifyResult:
        """Check the whole chain; `deep` also checks each record's schema and digests."""
        ...

    def checkpoint(self) -> Checkpoint: ...

    def close(self) -> None: ...

    def __enter__(self) -> AuditStore: ...

    def __exit__(self, *exc: object) -> None: ...


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("cockpit")) / "audit.sqlite3"


def open_store(
    path: str | None = None,
    *,
    clock: Clock,
    create: bool = True,
    store: StoreConfig | None = None,
    read_only: bool = False,
) -> AuditStore:
    """Open (or with `create`, create) the audit log; AuditError when it cannot be used.

    The team store when `store` (config `store:`) is given or `path` is a postgresql://
    URL, else the SQLite file at `path` (default: the user data directory's)."""
    from cockpit.team.store_config import is_url

    if store is None and path is not None and is_url(path):
        from cockpit.team.connect import from_url

        store = from_url(path)
    if store is not None:
        from cockpit.audit.postgres import PostgresStore

        return PostgresStore(store, clock=clock, create=create, read_only=read_only)
    from cockpit.audit.sqlite import SqliteStore

    return SqliteStore(
        str(path) if path is not None else str(default_path()),
        clock=clock,
        create=create and not read_only,
        read_only=read_only,
    )
