"""Archive segments: a sealed run of records as a JSONL file beside its checkpoint.

`audit-<first>-<last>.jsonl` (seqs zero-padded to 12 digits) holds one record a line,
`{"body": ..., "hash": ..., "prev_hash": ..., "seq": ...}`: the body is the record's
canonical JSON exactly as the live log stored it, so every hash can be recomputed from the
file alone. `audit-<first>-<last>.checkpoint` is a checkpoint (cockpit.audit.checkpoint) of
the log at the segment's last record. Both are written to a temporary name, fsynced and
renamed, the checkpoint first: a .jsonl is never there without its checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import EventType
from cockpit.audit.records import AuditError, AuditRecord, VerifyResult, parse
from cockpit.audit.verify import Row, verify_rows

NAME = re.compile(r"^audit-(\d{12})-(\d{12})\.jsonl$")
_MARKS = (b'"event_type":"audit.seal"', b'"event_type":"audit.purge"')
_KINDS = (EventType.AUDIT_SEALED, EventType.AUDIT_PURGED)


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment file in an archive directory, by its name's range."""

    path: Path
    first: int
    last: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def checkpoint_path(self) -> Path:
        return self.path.with_suffix(".checkpoint")

    def rows(self) -> Iterator[Row]:
        """The stored rows in file order; AuditError naming the line that is not one."""
        with self.path.open("rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    data = json.loads(raw)
                    yield (
                        data["seq"],
                        bytes.fromhex(data["prev_hash"]),
                        bytes.fromhex(data["hash"]),
                        data["body"].encode("utf-8"),
                    )
                except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                    raise AuditError(f"line {n} is not a segment record") from None

    def records(self) -> Iterator[AuditRecord]:
        for _, prev, hash_, body in self.rows():
            yield parse(body, prev, hash_)

    def first_prev(self) -> bytes:
        """The prev_hash of the segment's first record: the hash it continues from."""
        for _, prev, _, _ in self.rows():
            return prev
        raise AuditError("the segment is empty")

    def marked(self) -> Iterator[AuditRecord]:
        """The audit.seal and audit.purge records in the segment."""
        for _, prev, hash_, body in self.rows():
            if any(mark in body for mark in _MARKS):
                record = parse(body, prev, hash_)
                if record.event_type in _KINDS:
                    yield record

    def digest(self) -> str:
        return file_digest(self.path)


def segment_name(first: int, last: int) -> str:
    return f"audit-{first:012d}-{last:012d}.jsonl"


def file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()


def listed(directory: Path) -> list[Segment]:
    """The segments in `directory` by first seq (none when it does not exist)."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        m = NAME.match(path.name)
        if m:
            found.append(Segment(path, int(m.group(1)), int(m.group(2))))
    return sorted(found, key=lambda s: (s.first, s.last))


def line(row: Row) -> bytes:
    seq, prev, hash_, body = row
    data = {"body": body.decode("utf-8"), "hash": hash_.hex(), "prev_hash": prev.hex(), "seq": seq}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def write(directory: Path, rows: Iterable[Row], first: int, last: int, cp: Checkpoint) -> Segment:
    """Write a segment durably: temporary names, fsync, rename (checkpoint first), fsync dir."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    segment = Segment(directory / segment_name(first, last), first, last)
    _durable(segment.checkpoint_path, [cp.serialize().encode("utf-8")])
    _durable(segment.path, (line(row) + b"\n" for row in rows))
    return segment


def _durable(path: Path, chunks: Iterable[bytes]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    sync_dir(path.parent)


def sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove(segment: Segment) -> None:
    """Delete a segment and its checkpoint (the .jsonl first: never a segment without one)."""
    segment.path.unlink(missing_ok=True)
    segment.checkpoint_path.unlink(missing_ok=True)
    sync_dir(segment.path.parent)


def check(
    segment: Segment,
    origin: str,
    *,
    deep: bool = False,
    anchor: Checkpoint | None = None,
) -> tuple[VerifyResult, Checkpoint | None]:
    """The segment's own chain from its first record, against its checkpoint (and `anchor`,
    a checkpoint of the whole log whose size falls in this segment)."""
    where = f"segment {segment.name}"
    try:
        cp = Checkpoint.parse(segment.checkpoint_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, AuditError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        return _bad(segment, f"{where}: its checkpoint is unusable: {why}"), None
    if cp.origin != origin:
        return _bad(segment, f"{where}: its checkpoint is for log {cp.origin}, not {origin}"), cp
    if cp.size != segment.last:
        why = f"{where}: its checkpoint is at record {cp.size}, not its last ({segment.last})"
        return _bad(segment, why), cp
    try:
        start = (segment.first, segment.first_prev())
        result = verify_rows(segment.rows(), checkpoint=cp, deep=deep, start=start)
        if result.ok and anchor is not None:
            result = verify_rows(segment.rows(), checkpoint=anchor, start=start)
    except (OSError, AuditError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        return _bad(segment, f"{where}: {why}"), cp
    if not result.ok:
        at = f"record {result.first_bad_seq}: " if result.first_bad_seq is not None else ""
        why = f"{where}: {at}{result.problem}"
        return VerifyResult(False, result.count, result.head_hash, result.first_bad_seq, why), cp
    if result.count != segment.last:
        why = f"{where}: it ends at record {result.count}, its name says {segment.last}"
        return _bad(segment, why), cp
    return result, cp


def _bad(segment: Segment, problem: str) -> VerifyResult:
    return VerifyResult(False, segment.first - 1, "", None, problem)
