"""`cockpit audit ...`: verify, checkpoint, show, tail, export and report the audit log.

Exit codes: 0 success (verify: intact), 1 the log (or a checkpoint) failed a check or the
file is damaged, 2 bad usage or no usable log (missing, empty, not a database). Reading or
exporting the log is itself recorded (PCI DSS 10.2.1.3), after the read succeeded and never
into a log verify found not intact; when the log cannot take it the command warns, goes on.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cockpit.audit import retention_cli
from cockpit.audit.events import EventType
from cockpit.cli.common import log_options, when
from cockpit.cli.exits import Exit

if TYPE_CHECKING:
    from cockpit.clock import Clock

EPILOG = """\
examples:
  cockpit audit verify                          exit 0 when the chain is intact
  cockpit audit checkpoint -o /mnt/worm/cp-$(date +%F).txt
  cockpit audit verify --checkpoint /mnt/worm/cp-2026-11-01.txt
  cockpit audit verify --checkpoints /mnt/worm/anchors --allowed-signers signers
  cockpit audit tail -n 50 --follow
  cockpit audit export --format jsonl --since 2026-11-01 --until 2026-12-01
  cockpit audit report --since 30d --format html -o changes.html
  cockpit audit report --since 30d --pack evidence.zip
  cockpit audit follow-up 4182 --ticket CHG-1301
  cockpit audit copy --from ~/.local/share/cockpit/audit.sqlite3   into the team store
"""


def _period(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", type=when, metavar="WHEN", help="from (inclusive): date, time or 7d")
    p.add_argument("--until", type=when, metavar="WHEN", help="to (exclusive): date, time or age")


def add_parser(subparsers: Any) -> None:
    """Register `audit` and its actions on the root command's subparsers."""
    audit = subparsers.add_parser(
        "audit",
        help="verify, checkpoint, read and export the tamper-evident audit log",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.set_defaults(run=run)
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    verify = sub.add_parser(
        "verify", help="check the hash chain (exit 1 naming the first bad record)"
    )
    log_options(verify)
    verify.add_argument("--checkpoint", metavar="FILE", help="also detect truncation and rewrites")
    verify.add_argument(
        "--checkpoints",
        metavar="DIR",
        help="check against every signed checkpoint in DIR (a sink directory or git work tree)",
    )
    verify.add_argument("--deep", action="store_true", help="also check every record's schema")
    verify.add_argument(
        "--allowed-signers", metavar="FILE", help="check the checkpoint signature(s)"
    )
    verify.add_argument("--principal", help="who must have signed the checkpoint(s)")

    checkpoint = sub.add_parser("checkpoint", help="print the log's size and head hash")
    log_options(checkpoint)
    checkpoint.add_argument("-o", "--output", metavar="FILE", help="write it here (fsynced)")
    signing = checkpoint.add_mutually_exclusive_group()
    signing.add_argument("--sign-key", metavar="KEY", help="SSH key (or .pub with agent) to sign")
    signing.add_argument("--sign-agent", action="store_true", help="sign with ssh-agent's key")

    show = sub.add_parser("show", help="list records, or one record in full")
    log_options(show)
    show.add_argument("seq", nargs="?", type=int, help="show this record in full")
    _period(show)
    show.add_argument(
        "--type",
        action="append",
        dest="types",
        choices=[t.value for t in EventType],
        metavar="EVENT",
        help="only this event type (repeatable), e.g. action.refused",
    )
    show.add_argument("--service")
    show.add_argument("--environment")
    show.add_argument("-n", "--limit", type=int, default=50, help="at most N records (default 50)")
    show.add_argument("--json", action="store_true", help="JSON lines")

    tail = sub.add_parser("tail", help="the newest records; --follow prints new ones as they come")
    log_options(tail)
    tail.add_argument("-n", type=int, default=20, dest="limit", help="how many (default 20)")
    tail.add_argument("-f", "--follow", action="store_true")
    tail.add_argument("--json", action="store_true", help="JSON lines")

    export = sub.add_parser("export", help="export records as JSONL or CSV")
    log_options(export)
    export.add_argument("--format", choices=("jsonl", "csv"), required=True)
    _period(export)
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    report = sub.add_parser("report", help="production changes with approvers, gates, break-glass")
    log_options(report)
    report.add_argument(
        "--format",
        choices=("text", "csv", "json", "html"),
        help="default: what -o FILE's suffix names (.html .csv .json), else a text table",
    )
    _period(report)
    report.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    report.add_argument(
        "--environment",
        action="append",
        dest="environments",
        metavar="ENV",
        help="count ENV as production (default: the config's production environments)",
    )
    pack = report.add_argument_group("evidence pack (docs/compliance.md)")
    pack.add_argument("--pack", metavar="FILE.zip", help="write the auditor's evidence pack")
    pack.add_argument("--controls", default="sox,pci,hipaa", help="controls to map (sox,pci,hipaa)")
    pack.add_argument("--checkpoint", metavar="FILE", help="verify against and include it")
    pack.add_argument("--sign-key", metavar="KEY", help="SSH key to sign the checkpoint made now")

    retention_cli.add_parsers(sub)

    copy = sub.add_parser(
        "copy",
        help="copy a personal SQLite log into the (empty) team store, then verify it",
        description="Copy every record of FILE.sqlite3 into the team store byte for byte "
        "(same seqs and hashes), then verify the team log and check it ends on the source's "
        "head. The source is verified first; the team log must be empty. Progress goes to "
        "stderr for long logs. Exit 0 copied and verified, 1 a log failed its check, 2 usage.",
    )
    copy.add_argument(
        "-c", "--config", metavar="FILE", default=argparse.SUPPRESS, help="config file"
    )
    copy.add_argument(
        "--from", dest="source", required=True, metavar="FILE.sqlite3", help="the personal log"
    )
    copy.add_argument(
        "--to", metavar="URL", help="postgresql://user@host/db (default: config store:)"
    )

    follow = sub.add_parser(
        "follow-up",
        help="link a hotfix to its follow-up ticket (the report lists hotfixes still missing one)",
        description="Append a record linking hotfix record SEQ (any record of that attempt, "
        "as `audit report` lists it) to its follow-up ticket. Exit 2 when SEQ is not a hotfix "
        "that ran, or already has a follow-up.",
    )
    log_options(follow)
    follow.add_argument("seq", type=int, metavar="SEQ", help="the hotfix's record number")
    follow.add_argument("--ticket", required=True, help="the follow-up ticket, e.g. CHG-1301")
    follow.add_argument("--reason", default="", help="why, e.g. what the follow-up changes")


def run(args: argparse.Namespace, clock: Clock | None = None) -> int:
    """Run the audit action `args` names; `clock` (default: the system's) for tests."""
    import os
    import sys

    from cockpit.audit import commands, copy, follow_up, readers, retention
    from cockpit.audit.records import AuditError, DamagedLog
    from cockpit.audit.sshsig import SignatureError
    from cockpit.clock import SystemClock
    from cockpit.sanitize import clean

    actions: dict[str, Callable[[commands.Context], int]] = {
        "verify": commands.verify,
        "checkpoint": commands.checkpoint,
        "show": readers.show,
        "tail": readers.tail,
        "export": readers.export_cmd,
        "report": readers.report_cmd,
        "follow-up": follow_up.follow_up,
        "seal": retention.seal,
        "purge": retention.purge,
        "copy": copy.copy,
    }
    if args.audit_command == "report" and args.pack:
        from cockpit.audit.pack import pack_cmd

        actions["report"] = pack_cmd
    try:
        ctx = commands.Context(args, clock or SystemClock())
        if ctx.team is not None and args.audit_command in ("seal", "purge"):
            raise AuditError(
                f"audit {args.audit_command} is not supported on the team store yet "
                f"({ctx.path}); give --db FILE for a personal SQLite log"
            )
        return actions[args.audit_command](ctx)
    except SignatureError as exc:  # a key that cannot sign (the commands sign before writing)
        print(f"cockpit audit: {clean(str(exc))}", file=sys.stderr)
        return Exit.USAGE
    except DamagedLog as exc:  # the file or a record in it is damaged: a failed check
        print(f"cockpit audit: {clean(str(exc))}", file=sys.stderr)
        return Exit.FAILED
    except AuditError as exc:
        print(f"cockpit audit: {clean(str(exc))}", file=sys.stderr)
        return Exit.USAGE
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):  # `| head`: the reader has gone, so be quiet
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return Exit.FAILED
        print(f"cockpit audit: {clean(str(exc))}", file=sys.stderr)
        return Exit.USAGE
