"""`cockpit audit verify|checkpoint`, and the context every audit command runs in."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cockpit import __version__
from cockpit.actions.identity import current_actor
from cockpit.audit import span
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import AuditEvent, EventType
from cockpit.audit.records import AuditError, DamagedLog, VerifyResult
from cockpit.audit.sqlite import SqliteStore
from cockpit.audit.store import AuditStore, default_path
from cockpit.cli.exits import Exit
from cockpit.clock import Clock
from cockpit.sanitize import clean
from cockpit.team.store_config import team_store


class Context:
    """The resolved command: which log, which clock, and how to record the access."""

    def __init__(self, args: argparse.Namespace, clock: Clock) -> None:
        self.args = args
        self.clock = clock
        self.settings = _settings(getattr(args, "config", None))
        configured = self.settings.audit.path if self.settings else None
        db = getattr(args, "db", None)
        # The team store: `--db postgresql://...`, else config's store: (or an audit.path URL).
        self.team = team_store(db, self.settings)
        self.path = (
            f"postgresql://{self.team.where()}"
            if self.team is not None
            else db or (os.path.expanduser(configured) if configured else str(default_path()))
        )

    def archive_dir(self) -> Path:
        """Where this log's sealed segments live (config retention.archive_dir)."""
        from cockpit.retention_config import archive_dir

        return archive_dir(getattr(self.settings, "retention", None), self.path)

    def reader(self) -> AuditStore:
        """The log opened read-only: reading or verifying it never changes a byte of it."""
        if self.team is not None:
            from cockpit.audit.postgres import PostgresStore

            return PostgresStore(self.team, clock=self.clock, create=False, read_only=True)
        return SqliteStore(self.path, clock=self.clock, read_only=True)

    def writer(self) -> AuditStore:
        """The log opened to append to (it must exist already)."""
        if self.team is not None:
            from cockpit.audit.postgres import PostgresStore

            return PostgresStore(self.team, clock=self.clock, create=False)
        return SqliteStore(self.path, clock=self.clock, create=False)

    def production(self) -> Callable[[str], bool]:
        chosen = getattr(self.args, "environments", None)
        if chosen:
            return set(chosen).__contains__
        if self.settings is not None:
            return {e.name for e in self.settings.environments if e.production}.__contains__
        from cockpit.config import PRODUCTION_NAMES

        return PRODUCTION_NAMES.__contains__

    def record(self, event_type: EventType, outcome: str, **extra: Any) -> None:
        """Log this access to the log; a log that cannot take it gets a warning, not a stop.

        Callers record only after reading the log succeeded (verify: only an intact log).
        """
        action = f"audit.{self.args.audit_command}"
        event = AuditEvent(
            event_type, current_actor(__version__), None, action, outcome, extra=extra
        )
        try:
            with self.writer() as store:
                store.append(event)
        except AuditError as exc:
            print(f"cockpit audit: warning: this access was not recorded: {exc}", file=sys.stderr)


def _settings(explicit: str | None) -> Any:
    from cockpit import config

    found = config.find(explicit)
    return config.load(str(found), resolve_secrets=False) if found else None


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rverifying: {done:,}/{total:,} records")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def verify(ctx: Context) -> int:
    args = ctx.args
    if getattr(args, "checkpoints", None):
        from cockpit.audit.anchors_cli import verify_checkpoints

        return verify_checkpoints(ctx)
    anchor = (
        Checkpoint.parse(Path(args.checkpoint).read_text(encoding="utf-8"))
        if args.checkpoint
        else None
    )
    try:
        store = ctx.reader()
    except AuditError as exc:
        # A damaged file fails the check; so does an unusable one a checkpoint says had records.
        if isinstance(exc, DamagedLog) or (anchor is not None and anchor.size > 0):
            where = "" if isinstance(exc, DamagedLog) else "record 1: missing: "
            print(clean(f"audit log NOT intact: {where}{exc}"))
            return Exit.FAILED
        raise
    with store:
        if isinstance(store, SqliteStore) and span.in_use(store, ctx.archive_dir()):
            return _verify_across(ctx, store, anchor)
        progress = _progress if sys.stderr.isatty() else None
        result = store.verify(anchor, progress=progress, deep=args.deep)
    if result.ok and anchor is not None and args.allowed_signers:
        result = _check_signature(anchor, args, result)
    print(clean(result.describe()))
    if not result.ok:
        return Exit.FAILED  # recording the check would append to a log that is not intact
    if anchor is not None:
        print(clean(f"checkpoint {anchor.origin} at {anchor.size} records: consistent"))
        if anchor.signature and not args.allowed_signers:
            print("checkpoint signature not checked: give --allowed-signers and --principal")
    ctx.record(
        EventType.AUDIT_VERIFIED,
        "success",
        records=result.count,
        head_hash=result.head_hash,
        deep=bool(args.deep),
        checkpoint_size=anchor.size if anchor else -1,
    )
    return Exit.OK


def _verify_across(ctx: Context, store: SqliteStore, anchor: Checkpoint | None) -> int:
    """verify over the archive segments, the purges and the live log (cockpit.audit.span)."""
    from cockpit.audit.purges import Signers

    args = ctx.args
    if args.allowed_signers and not args.principal:
        raise AuditError("--allowed-signers needs --principal (who must have signed)")
    signers = Signers(args.allowed_signers, args.principal) if args.allowed_signers else None
    retention = getattr(ctx.settings, "retention", None)
    report = span.check_span(
        store, ctx.archive_dir(), anchor=anchor, deep=args.deep, signers=signers,
        unsigned_ok=bool(getattr(retention, "unsigned_purge", False)),
    )  # fmt: skip
    if report.ok and anchor is not None and signers is not None:
        checked = _check_signature(anchor, args, VerifyResult(True, report.last, report.head_hash))
        report.problems.extend([checked.problem] if not checked.ok else [])
    for note in report.notes:
        print(clean(note))
    for problem in report.problems[1:]:
        print(clean(f"also: {problem}"))
    print(clean(report.describe()))
    if not report.ok:
        return Exit.FAILED
    if anchor is not None:
        print(clean(f"checkpoint {anchor.origin} at {anchor.size} records: consistent"))
    ctx.record(
        EventType.AUDIT_VERIFIED, "success", records=report.last, head_hash=report.head_hash,
        deep=bool(args.deep), checkpoint_size=anchor.size if anchor else -1,
        segments=report.segments, purged=report.purged,
    )  # fmt: skip
    return Exit.OK


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
    with ctx.reader() as store:
        result = store.verify()
    if not result.ok:
        print(clean(f"no checkpoint written (it would anchor a damaged log): {result.describe()}"),
              file=sys.stderr)  # fmt: skip
        return Exit.FAILED
    cp = Checkpoint(store.origin, result.count, result.head_hash, ctx.clock.now())
    if args.sign_key or args.sign_agent:
        from cockpit.audit.sshsig import SignatureError

        try:
            cp = cp.sign(args.sign_key)
        except SignatureError as exc:
            raise AuditError(f"no checkpoint written: {exc}") from None
    text = cp.serialize()
    if args.output:
        _write_durably(Path(args.output), text)
    else:
        sys.stdout.write(text)
    ctx.record(
        EventType.AUDIT_CHECKPOINT,
        "success",
        size=cp.size,
        head_hash=cp.head_hash,
        signed=bool(cp.signature),
        output=args.output or "(stdout)",
    )
    return Exit.OK


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
