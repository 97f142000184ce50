"""Flat exports of audit records: JSONL for machines and SIEMs, CSV for spreadsheets."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from typing import Any, Protocol

from cockpit.audit.canonical import utc_text
from cockpit.audit.records import AuditRecord
from cockpit.sanitize import clean

CSV_COLUMNS = (
    "seq",
    "ts",
    "event_type",
    "user",
    "principal",
    "host",
    "ssh_client",
    "pid",
    "version",
    "service",
    "environment",
    "from_version",
    "to_version",
    "digest",
    "source",
    "remote_id",
    "action",
    "outcome",
    "reason",
    "ticket",
    "request_id",
    "break_glass",
    "policy_decision",
    "evidence_digest",
    "prev_hash",
    "hash",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TextSink(Protocol):
    def write(self, text: str, /) -> int: ...


class HashingWriter:
    """Passes text through to `out` and keeps the SHA-256 of what was written."""

    def __init__(self, out: TextSink) -> None:
        self._out = out
        self._sha = hashlib.sha256()
        self.lines = 0

    def write(self, text: str) -> int:
        self._sha.update(text.encode("utf-8"))
        self.lines += text.count("\n")
        return self._out.write(text)

    def digest(self) -> str:
        return "sha256:" + self._sha.hexdigest()


def cell(value: object) -> str:
    """A spreadsheet-safe cell: control characters shown, formulas neutralised (CSV injection)."""
    text = clean(value, limit=4000)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(record: AuditRecord) -> dict[str, Any]:
    target = record.target
    actor = record.actor
    return {
        "seq": record.seq,
        "ts": utc_text(record.ts),
        "event_type": str(record.event_type),
        "user": actor.user,
        "principal": actor.principal,
        "host": actor.host,
        "ssh_client": actor.ssh_client,
        "pid": actor.pid,
        "version": actor.version,
        "service": target.service if target else "",
        "environment": target.environment if target else "",
        "from_version": target.from_version if target else "",
        "to_version": target.to_version if target else "",
        "digest": target.digest if target else "",
        "source": target.source if target else "",
        "remote_id": target.remote_id if target else "",
        "action": record.action,
        "outcome": record.outcome,
        "reason": record.reason,
        "ticket": record.ticket,
        "request_id": record.request_id,
        "break_glass": "yes" if record.break_glass else "no",
        "policy_decision": record.policy.get("decision", ""),
        "evidence_digest": record.evidence_digest,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def write_jsonl(records: Iterable[AuditRecord], out: TextSink) -> int:
    """One ASCII JSON object per line: the record's fields plus prev_hash and hash."""
    n = 0
    for record in records:
        out.write(record.to_json() + "\n")
        n += 1
    return n


def write_csv(records: Iterable[AuditRecord], out: TextSink) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for record in records:
        writer.writerow({k: cell(v) for k, v in csv_row(record).items()})
        n += 1
    return n
