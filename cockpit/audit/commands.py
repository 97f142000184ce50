"""What each `cockpit audit` action does; cli.py only parses the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from cockpit import __version__
from cockpit.audit import export, report, report_html
from cockpit.audit.canonical import utc_text
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.cli import EXIT_FAILED, EXIT_OK, resolve_when
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditError, AuditRecord, VerifyResult
from cockpit.audit.sqlite import SqliteStore
from cockpit.audit.store import default_path
from cockpit.clock import Clock, SystemClock
from cockpit.identity import current_actor
from cockpit.sanitize import clean

FOLLOW_INTERVAL = 1.0


class Context:
    """The resolved command: which log, which clock, and how to record the access."""

    def __init__(self, args: argparse.Namespace, clock: Clock) -> None:
        self.args = args
        self.clock = clock
        self.settings = _settings(getattr(args, "config", None))
        configured = self.settings.audit.path if self.settings else None
        self.path = args.db or (
            os.path.expanduser(configured) if configured else str(default_path())
        )

    def store(self) -> SqliteStore:
        return SqliteStore(self.path, clock=self.clock, create=False)

    def production(self) -> Callable[[str], bool]:
        chosen = getattr(self.args, "environments", None)
        if chosen:
            return set(chosen).__contains__
        if self.settings is not None:
            return {e.name for e in self.settings.environments if e.production}.__contains__
        from cockpit.config import PRODUCTION_NAMES

        return PRODUCTION_NAMES.__contains__

    def record(self, store: SqliteStore, event_type: EventType, outcome: str, **extra: Any) -> None:
        """Log this access to the log; a log that cannot take it gets a warning, not a stop."""
        action = f"audit.{self.args.audit_command}"
        event = AuditEvent(
            event_type, current_actor(__version__), None, action, outcome, extra=extra
        )
        try:
            store.append(event)
        except AuditError as exc:
            print(f"cockpit audit: warning: this access was not recorded: {exc}", file=sys.stderr)


def _settings(explicit: str | None) -> Any:
    from cockpit import config

    found = config.find(explicit)
    return config.load(str(found), resolve_secrets=False) if found else None


def dispatch(args: argparse.Namespace) -> int:
    ctx = Context(args, SystemClock())
    commands = {
        "verify": verify,
        "checkpoint": checkpoint,
        "show": show,
        "tail": tail,
        "export": export_cmd,
        "report": report_cmd,
    }
    return commands[args.audit_command](ctx)


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rverifying: {done:,}/{total:,} records")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def verify(ctx: Context) -> int:
    args = ctx.args
    anchor = (
        Checkpoint.parse(Path(args.checkpoint).read_text(encoding="utf-8"))
        if args.checkpoint
        else None
    )
    if anchor is not None and anchor.size > 0 and not Path(ctx.path).exists():
        print(f"audit log NOT intact: record 1: missing: no log at {clean(ctx.path)}")
        return EXIT_FAILED
    with ctx.store() as store:
        progress = _progress if sys.stderr.isatty() else None
        result = store.verify(anchor, progress=progress, deep=args.deep)
        if result.ok and anchor is not None and args.allowed_signers:
            result = _check_signature(anchor, args, result)
        print(clean(result.describe()))
        if anchor is not None and result.ok:
            print(clean(f"checkpoint {anchor.origin} at {anchor.size} records: consistent"))
            if anchor.signature and not args.allowed_signers:
                print("checkpoint signature not checked: give --allowed-signers and --principal")
        ctx.record(
            store,
            EventType.AUDIT_VERIFIED,
            "success" if result.ok else "failure",
            records=result.count,
            head_hash=result.head_hash,
            first_bad_seq=result.first_bad_seq or 0,
            problem=result.problem,
            checkpoint_size=anchor.size if anchor else -1,
        )
    return EXIT_OK if result.ok else EXIT_FAILED


def _check_signature(
    anchor: Checkpoint, args: argparse.Namespace, result: VerifyResult
) -> VerifyResult:
    from cockpit.audit.sshsig import SignatureError

    if not args.principal:
        raise AuditError("--allowed-signers needs --principal (who must have signed)")
    try:
        anchor.verify_signature(principal=args.principal, allowed_signers=args.allowed_signers)
    except SignatureError as exc:
        return VerifyResult(False, result.count, result.head_hash, None, f"checkpoint: {exc}")
    return result


def checkpoint(ctx: Context) -> int:
    args = ctx.args
    with ctx.store() as store:
        result = store.verify()
        if not result.ok:
            print(clean(result.describe()), file=sys.stderr)
            print("no checkpoint written: it would anchor a damaged log", file=sys.stderr)
            return EXIT_FAILED
        cp = Checkpoint(store.origin, result.count, result.head_hash, ctx.clock.now())
        if args.sign_key or args.sign_agent:
            cp = cp.sign(args.sign_key)
        text = cp.serialize()
        if args.output:
            _write_durably(Path(args.output), text)
        else:
            sys.stdout.write(text)
        ctx.record(
            store,
            EventType.AUDIT_CHECKPOINT,
            "success",
            size=cp.size,
            head_hash=cp.head_hash,
            signed=bool(cp.signature),
            output=args.output or "(stdout)",
        )
    return EXIT_OK


def _write_durably(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    dir_fd = os.open(path.parent if str(path.parent) else ".", os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


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
    with ctx.store() as store:
        if args.seq is not None:
            found = [r for r in store.records(after_seq=args.seq - 1, limit=1) if r.seq == args.seq]
            if not found:
                print(f"cockpit audit: no record {args.seq}", file=sys.stderr)
                return EXIT_FAILED
            print(found[0].to_json() if args.json else detail(found[0]))
            ctx.record(store, EventType.AUDIT_READ, "success", seq=args.seq, records=1)
            return EXIT_OK
        filters = {
            "since": resolve_when(args.since, now),
            "until": resolve_when(args.until, now),
            "event_types": [EventType(t) for t in args.types] if args.types else None,
            "service": args.service,
            "environment": args.environment,
        }
        n = _emit(store.records(**filters, limit=args.limit), args.json)
        ctx.record(store, EventType.AUDIT_READ, "success", records=n, filters=filters)
    return EXIT_OK


def tail(ctx: Context) -> int:
    args = ctx.args
    with ctx.store() as store:
        newest = list(store.records(newest_first=True, limit=args.limit))[::-1]
        _emit(iter(newest), args.json)
        last = newest[-1].seq if newest else 0
        ctx.record(store, EventType.AUDIT_READ, "success", records=len(newest), follow=args.follow)
        try:
            while args.follow:
                fresh = list(store.records(after_seq=last))
                _emit(iter(fresh), args.json)
                last = fresh[-1].seq if fresh else last
                time.sleep(FOLLOW_INTERVAL)
        except KeyboardInterrupt:
            pass
    return EXIT_OK


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
    with ctx.store() as store, _output(args.output) as out:
        writer = export.HashingWriter(out)
        write = export.write_jsonl if args.format == "jsonl" else export.write_csv
        n = write(store.records(since=since, until=until), writer)
        out.flush()
        ctx.record(
            store,
            EventType.AUDIT_EXPORTED,
            "success",
            format=args.format,
            since=utc_text(since) if since else "",
            until=utc_text(until) if until else "",
            records=n,
            sha256=writer.digest(),
            output=args.output or "(stdout)",
        )
    return EXIT_OK


def report_cmd(ctx: Context) -> int:
    args = ctx.args
    now = ctx.clock.now()
    since = resolve_when(args.since, now) or now - timedelta(days=30)
    until = resolve_when(args.until, now) or now
    with ctx.store() as store:
        verified = store.verify()
        built = report.build(
            store.records(since=since, until=until),
            production=ctx.production(),
            since=since,
            until=until,
            now=now,
            verified=verified,
        )
        with _output(args.output) as out:
            writer = export.HashingWriter(out)
            if args.format == "csv":
                report.to_csv(built, writer)
            else:
                writer.write(
                    report.to_json(built) if args.format == "json" else report_html.to_html(built)
                )
            out.flush()
        ctx.record(
            store,
            EventType.AUDIT_EXPORTED,
            "success",
            format=f"report-{args.format}",
            since=built.since,
            until=built.until,
            changes=len(built.changes),
            break_glass=len(built.break_glass),
            sha256=writer.digest(),
            output=args.output or "(stdout)",
        )
    if not verified.ok:
        print(clean(f"warning: {verified.describe()}"), file=sys.stderr)
    return EXIT_OK
