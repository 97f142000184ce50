"""`cockpit audit show|tail|export|report`: reading the log, every read itself recorded."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO

from cockpit.audit import archive_read, export, report, report_output
from cockpit.audit.canonical import utc_text
from cockpit.audit.commands import Context
from cockpit.audit.events import EventType
from cockpit.audit.records import AuditRecord
from cockpit.cli.common import resolve_when
from cockpit.cli.exits import Exit
from cockpit.sanitize import clean

FOLLOW_INTERVAL = 1.0


def line(r: AuditRecord) -> str:
    """One record on one line, for show and tail."""
    t = r.target
    where = f"{t.service}/{t.environment}" if t else "-"
    versions = f" {t.from_version or '?'}->{t.to_version}" if t and t.to_version else ""
    glass = " BREAK-GLASS" if r.break_glass else ""
    reason = f'  "{r.reason}"' if r.reason else ""
    text = f"{r.seq:>7} {utc_text(r.ts)} {r.event_type:<18} {report.who(r.actor)} {where}"
    return clean(f"{text} {r.action} {r.outcome}{glass}{versions}{reason}")


def detail(r: AuditRecord) -> str:
    data = r.to_dict()
    rows = [f"{k}: {json.dumps(data[k], indent=2, ensure_ascii=False)}" for k in sorted(data)]
    return clean("\n".join(rows), multiline=True)


def _emit(records: Iterator[AuditRecord], as_json: bool) -> int:
    n = 0
    for r in records:
        print(r.to_json() if as_json else line(r), flush=True)
        n += 1
    return n


def show(ctx: Context) -> int:
    args = ctx.args
    now = ctx.clock.now()
    with ctx.reader() as store:
        if args.seq is not None:
            found = [r for r in store.records(after_seq=args.seq - 1, limit=1) if r.seq == args.seq]
            if not found and args.seq < archive_read.live_from(store):  # sealed: in the archive
                found = [r for r in [archive_read.one(ctx.archive_dir(), args.seq)] if r]
            if not found:
                print(f"cockpit audit: no record {args.seq}", file=sys.stderr)
                return Exit.FAILED
            print(found[0].to_json() if args.json else detail(found[0]))
            ctx.record(EventType.AUDIT_READ, "success", seq=args.seq, records=1)
            return Exit.OK
        filters = {
            "since": resolve_when(args.since, now),
            "until": resolve_when(args.until, now),
            "event_types": [EventType(t) for t in args.types] if args.types else None,
            "service": args.service,
            "environment": args.environment,
        }
        n = _emit(store.records(**filters, limit=args.limit), args.json)
        ctx.record(EventType.AUDIT_READ, "success", records=n, filters=filters)
    return Exit.OK


def tail(ctx: Context) -> int:
    args = ctx.args
    with ctx.reader() as store:
        newest = list(store.records(newest_first=True, limit=args.limit))[::-1]
        _emit(iter(newest), args.json)
        last = newest[-1].seq if newest else 0
        ctx.record(EventType.AUDIT_READ, "success", records=len(newest), follow=args.follow)
        try:
            while args.follow:
                fresh = list(store.records(after_seq=last))
                _emit(iter(fresh), args.json)
                last = fresh[-1].seq if fresh else last
                time.sleep(FOLLOW_INTERVAL)
        except KeyboardInterrupt:
            pass
    return Exit.OK


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # audit data stays private
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        yield f


def export_cmd(ctx: Context) -> int:
    args = ctx.args
    now = ctx.clock.now()
    since, until = resolve_when(args.since, now), resolve_when(args.until, now)
    with ctx.reader() as store, _output(args.output) as out:
        writer = export.HashingWriter(out)
        write = export.write_jsonl if args.format == "jsonl" else export.write_csv
        n = write(archive_read.across(store, ctx.archive_dir(), since, until), writer)
        out.flush()
        ctx.record(
            EventType.AUDIT_EXPORTED,
            "success",
            format=args.format,
            since=utc_text(since) if since else "",
            until=utc_text(until) if until else "",
            records=n,
            sha256=writer.digest(),
            output=args.output or "(stdout)",
        )
    return Exit.OK


def report_cmd(ctx: Context) -> int:
    args = ctx.args
    now = ctx.clock.now()
    since = resolve_when(args.since, now) or now - timedelta(days=30)
    until = resolve_when(args.until, now) or now
    with ctx.reader() as store:
        verified = store.verify()
        follow_up = [EventType.HOTFIX_FOLLOW_UP]
        follow_ups = list(archive_read.across(store, ctx.archive_dir(), since, None, follow_up))
        built = report.build(
            archive_read.across(store, ctx.archive_dir(), since, until),
            production=ctx.production(),
            since=since,
            until=until,
            now=now,
            verified=verified,
            follow_ups=follow_ups,
        )
        fmt = report_output.choose(args.format, args.output)
        with _output(args.output) as out:
            writer = export.HashingWriter(out)
            report_output.write(built, fmt, writer)
            out.flush()
    if not verified.ok:  # not recorded: nothing is appended to a log that is not intact
        print(clean(f"warning (report not recorded): {verified.describe()}"), file=sys.stderr)
        return Exit.OK
    ctx.record(
        EventType.AUDIT_EXPORTED,
        "success",
        format=f"report-{fmt}",
        since=built.since,
        until=built.until,
        changes=len(built.changes),
        break_glass=len(built.break_glass),
        hotfixes_without_follow_up=len(built.hotfixes_without_follow_up),
        sha256=writer.digest(),
        output=args.output or "(stdout)",
    )
    return Exit.OK
