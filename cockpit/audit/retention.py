"""`cockpit audit seal` and `cockpit audit purge`: retention of the audit log.

Seal moves the oldest records into an archive segment (cockpit.audit.segments) in three
steps: write and fsync the segment, read it back and verify it, then append the
`audit.seal` record and delete the sealed records in one transaction. A crash between the
steps leaves the records in both places, which verify accepts and the next seal finishes.
Purge deletes whole segments past `retention.keep`, after a signed `audit.purge` record
naming each one; a purge within retention, or unsigned without the config allowing it,
is refused (exit 3) and, when asked to run (--yes), the refusal is recorded too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cockpit import __version__
from cockpit.actions.identity import current_actor
from cockpit.audit import canonical as c
from cockpit.audit import purges
from cockpit.audit import segments as seg
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.commands import Context
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditError, AuditRecord
from cockpit.audit.sqlite import SqliteStore
from cockpit.audit.sshsig import SignatureError
from cockpit.audit.store import AuditStore
from cockpit.audit.verify import Row, ts_of
from cockpit.cli.common import resolve_when
from cockpit.cli.exits import Exit
from cockpit.retention_config import RetentionConfig, archive_dir, parse_age
from cockpit.sanitize import clean


def config(ctx: Context) -> RetentionConfig:
    found = getattr(ctx.settings, "retention", None)
    return found if isinstance(found, RetentionConfig) else RetentionConfig()


def directory(ctx: Context) -> Path:
    return archive_dir(config(ctx), ctx.path)


def _say(text: str) -> None:
    print(clean(text))


def seal(ctx: Context) -> int:
    args, cfg, now = ctx.args, config(ctx), ctx.clock.now()
    where = directory(ctx)
    with ctx.reader() as reader:
        verified = reader.verify()
        if not verified.ok:
            _say(f"nothing sealed (the live log is damaged): {verified.describe()}")
            return Exit.FAILED
        first = next(reader.records(limit=1))
        resumed = next((s for s in seg.listed(where) if s.first == first.seq), None)
        through = resumed.last if resumed else _through(reader, args, cfg, now, first.seq)
        if through < first.seq:
            _say("nothing to seal: no record is older than the cutoff")
            return Exit.OK
        origin = reader.origin
        head = next(reader.records(after_seq=through - 1, limit=1)).hash
        if resumed is None:
            cp = Checkpoint(origin, through, head, now)
            if args.sign_key or args.sign_agent:
                try:
                    cp = cp.sign(args.sign_key)
                except SignatureError as exc:
                    raise AuditError(f"nothing sealed: {exc}") from None
            # Streamed: keyset pages of the reader, never the whole range in memory.
            rows = map(_row, reader.records(after_seq=first.seq - 1, limit=through - first.seq + 1))
            segment = seg.write(where, rows, first.seq, through, cp)
    if resumed is not None:
        segment = resumed
        _say(f"resuming an interrupted seal with {segment.path}")
    result, cp_read = seg.check(segment, origin)
    if not result.ok or result.head_hash != head:
        _say(
            f"nothing deleted from the live log: {result.problem or 'the segment differs from it'}"
        )
        return Exit.FAILED
    extra = {
        "segment": segment.name,
        "archive_dir": str(where),
        "first_seq": first.seq,
        "last_seq": through,
        "records": through - first.seq + 1,
        "head_hash": head,
        "file_digest": segment.digest(),
        "checkpoint": cp_read.serialize() if cp_read else "",
        "signed": bool(cp_read and cp_read.signature),
        "first_ts": c.utc_text(first.ts),
        "last_ts": c.utc_text(_times(segment)[1]),
    }
    event = AuditEvent(
        EventType.AUDIT_SEALED, current_actor(__version__), None, "audit.seal", "success",
        reason=args.reason or "", extra=extra,
    )  # fmt: skip
    with SqliteStore(ctx.path, clock=ctx.clock, create=False) as store:
        record = store.drop_sealed(through, head, event)
    _say(
        f"sealed records {first.seq}-{through} into {segment.path} ({extra['file_digest']}, "
        f"checkpoint {'signed' if extra['signed'] else 'unsigned'}); seal record #{record.seq}"
    )
    return Exit.OK


def _row(r: AuditRecord) -> Row:
    return (r.seq, bytes.fromhex(r.prev_hash), bytes.fromhex(r.hash), r.body)


def _through(reader: AuditStore, args: Any, cfg: RetentionConfig, now: datetime, first: int) -> int:
    """The last record to seal: before --before, else as `retention.seal_every` says."""
    every = cfg.seal_every
    if args.before is None and isinstance(every, int):
        head = reader.head()
        last = head.seq if head else 0
        # Whole segments of `every` records, leaving at least one record in the live log.
        return first + every - 1 if last - first + 1 > every else first - 1
    if args.before is not None:
        cutoff = resolve_when(args.before, now)
    elif isinstance(every, str):
        cutoff = parse_age(every).before(now)
    else:
        raise AuditError("give --before WHEN, or set retention.seal_every in the config")
    newest = next(reader.records(until=cutoff, newest_first=True, limit=1), None)
    return newest.seq if newest else first - 1


def _times(segment: seg.Segment) -> tuple[datetime, datetime]:
    """The times of a segment's first and last records, read from the bytes (not verified)."""
    first = last = b""
    for _, _, _, body in segment.rows():
        last = ts_of(body)
        first = first or last
    if not first or not last:
        raise AuditError(f"segment {segment.name} has no readable record times")
    return c.parse_utc(first.decode()), c.parse_utc(last.decode())


@dataclass(frozen=True, slots=True)
class Planned:
    segment: seg.Segment
    head_hash: str
    first_ts: datetime
    last_ts: datetime
    checkpoint: str

    def data(self) -> dict[str, Any]:
        return {
            "segment": self.segment.name,
            "first_seq": self.segment.first,
            "last_seq": self.segment.last,
            "head_hash": self.head_hash,
            "file_digest": self.segment.digest(),
            "checkpoint": self.checkpoint,
            "first_ts": c.utc_text(self.first_ts),
            "last_ts": c.utc_text(self.last_ts),
        }


def purge(ctx: Context) -> int:
    args, cfg, now = ctx.args, config(ctx), ctx.clock.now()
    before = resolve_when(args.before, now)
    assert before is not None  # --before is required
    refusals: list[str] = []
    keep = parse_age(cfg.keep) if cfg.keep else None
    kept_from = keep.before(now) if keep else None
    with ctx.reader() as reader:
        origin = reader.origin
        first_live = next(reader.records(limit=1)).seq
    planned: list[Planned] = []
    for s in seg.listed(directory(ctx)):
        try:
            first_ts, last_ts = _times(s)
        except (AuditError, ValueError) as exc:
            refusals.append(f"segment {s.name}: {exc} (verify the archive first)")
            continue
        if last_ts >= before:
            continue
        result, cp = seg.check(s, origin)
        if not result.ok:
            refusals.append(f"{result.problem} (verify the archive first)")
            continue
        if s.last >= first_live:
            refusals.append(f"segment {s.name} is not sealed yet (run audit seal to finish it)")
        if kept_from is not None and last_ts >= kept_from:
            refusals.append(
                f"segment {s.name} holds records up to {c.utc_text(last_ts)}, within retention "
                f"(keep {cfg.keep}: records from {c.utc_text(kept_from)} on are kept)"
            )
        planned.append(
            Planned(s, result.head_hash, first_ts, last_ts, cp.serialize() if cp else "")
        )
    signing = bool(args.sign_key or args.sign_agent)
    if planned:  # what is wrong with a purge that would delete something
        if keep is None:
            refusals.append("retention.keep is not configured: no record is past retention")
        if not signing and not args.unsigned:
            refusals.append("a purge must be signed: give --sign-key KEY or --sign-agent")
        if args.unsigned and not cfg.unsigned_purge:
            refusals.append("unsigned purges are not allowed (retention.unsigned_purge is false)")
    for p in planned:
        _say(
            f"purge segment {p.segment.name}: records {p.segment.first}-{p.segment.last} "
            f"({c.utc_text(p.first_ts)} to {c.utc_text(p.last_ts)}), head {p.head_hash[:16]}..."
        )
    if not planned and not refusals:
        _say(f"nothing to purge: no archive segment ends before {c.utc_text(before)}")
        return Exit.OK
    for why in refusals:
        _say(f"refused: {why}")
    extra: dict[str, Any] = {
        "before": c.utc_text(before),
        "keep": cfg.keep,
        "segments": [p.data() for p in planned],
    }
    if not args.yes:
        if not refusals:
            _say("plan only: nothing deleted; run again with --yes to purge")
        return Exit.REFUSED if refusals else Exit.OK
    if refusals:
        _record(ctx, "refused", args.reason, {**extra, "refusals": refusals})
        return Exit.REFUSED
    # Earlier purge records inside these segments: carried in this one's signed payload,
    # so verify still finds who purged the ranges before them.
    carried = [
        r for p in planned for r in p.segment.marked()
        if r.event_type == EventType.AUDIT_PURGED and r.outcome == "success"
    ]  # fmt: skip
    extra["carried_purges"] = [r.seq for r in carried]
    signed = purges.payload(
        origin=origin, time=now, before=before, keep=cfg.keep, reason=args.reason,
        segments=extra["segments"], carried=[seg.line(_row(r)).decode() for r in carried],
    )  # fmt: skip
    if signing:
        from cockpit.audit import sshsig

        try:
            extra["signature"] = sshsig.sign(
                signed, key=args.sign_key, namespace=purges.PURGE_NAMESPACE
            )
        except SignatureError as exc:
            raise AuditError(f"nothing purged or recorded: {exc}") from None
    extra["payload"] = signed.decode("utf-8")
    record = _record(ctx, "success", args.reason, extra)
    for p in planned:
        seg.remove(p.segment)
    _say(f"purged {len(planned)} segment(s); purge record #{record.seq}")
    return Exit.OK


def _record(ctx: Context, outcome: str, reason: str, extra: dict[str, Any]) -> AuditRecord:
    """The purge's record, written before anything is deleted (a failure stops the purge)."""
    event = AuditEvent(
        EventType.AUDIT_PURGED, current_actor(__version__), None, "audit.purge", outcome,
        reason=reason, extra=extra,
    )  # fmt: skip
    with SqliteStore(ctx.path, clock=ctx.clock, create=False) as store:
        return store.append(event)
