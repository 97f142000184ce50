"""The storage interface every audit backend honours, and where the default log lives."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditRecord, VerifyResult
from cockpit.audit.verify import Progress
from cockpit.clock import Clock


class AuditStore(Protocol):
    """An append-only, hash-chained log. SQLite now; PostgreSQL (team mode) later."""

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


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("cockpit")) / "audit.sqlite3"


def open_store(path: str | None = None, *, clock: Clock, create: bool = True) -> AuditStore:
    """Open (or with `create`, create) the audit log; AuditError when it cannot be used."""
    from cockpit.audit.sqlite import SqliteStore

    return SqliteStore(
        str(path) if path is not None else str(default_path()), clock=clock, create=create
    )
