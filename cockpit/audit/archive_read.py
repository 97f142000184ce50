"""Reading sealed records back: `audit show SEQ`, export and report over a sealed period.

The live log answers first; records older than its first one come from the archive
segments, in seq order, each once (a segment left by an interrupted seal overlaps the live
log, which then wins). Reading does not verify: `audit verify` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from cockpit.audit import segments as seg
from cockpit.audit.events import EventType
from cockpit.audit.records import AuditRecord, parse
from cockpit.audit.store import AuditStore


def live_from(store: AuditStore) -> int:
    """The live log's first seq (1 for an unsealed log)."""
    first = next(store.records(limit=1), None)
    return first.seq if first else 1


def sealed(
    directory: Path,
    before_seq: int,
    since: datetime | None = None,
    until: datetime | None = None,
    event_types: Iterable[EventType] | None = None,
) -> Iterator[AuditRecord]:
    """The archive's records with seq < `before_seq` and since <= ts < until (of
    `event_types`, when given), in seq order."""
    kinds = None if event_types is None else frozenset(event_types)
    done = 0
    for s in seg.listed(directory):
        if s.last <= done or s.first >= before_seq:
            continue
        for seq, prev, hash_, body in s.rows():
            if seq <= done or seq >= before_seq:
                continue
            record = parse(body, prev, hash_)
            done = seq
            if until is not None and record.ts >= until:
                return  # times never go back along the chain
            if (since is None or record.ts >= since) and (
                kinds is None or record.event_type in kinds
            ):
                yield record


def one(directory: Path, seq: int) -> AuditRecord | None:
    """Sealed record `seq`, or None when no segment holds it."""
    for s in seg.listed(directory):
        if s.first <= seq <= s.last:
            for at, prev, hash_, body in s.rows():
                if at == seq:
                    return parse(body, prev, hash_)
    return None


def across(
    store: AuditStore,
    directory: Path,
    since: datetime | None = None,
    until: datetime | None = None,
    event_types: Iterable[EventType] | None = None,
) -> Iterator[AuditRecord]:
    """A period's records (of `event_types`, when given) from the archive, then from the
    live log."""
    kinds = None if event_types is None else tuple(event_types)
    start = live_from(store)
    if start > 1:
        yield from sealed(directory, start, since, until, kinds)
    yield from store.records(since=since, until=until, event_types=kinds)
