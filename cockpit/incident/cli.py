"""`cockpit incident open|close|list|timeline`: incidents in the audit log, and the post-mortem timeline.

Exit codes: 0 success, 1 the timeline was written but a connector failed (evidence may be
missing: the output says which), 2 bad usage, an unknown or ambiguous incident, or no
usable audit log.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cockpit.cli.common import log_options, shared_options, when
from cockpit.cli.exits import Exit

EPILOG = """\
examples:
  cockpit incident open "checkout 5xx after 2.7.12" --ticket INC-7781 --service payments --env prod
  cockpit incident list
  cockpit incident timeline --since 2h --format md > timeline.md
  cockpit incident timeline --incident INC-42 --format json
  cockpit incident close --reason "rolled back to 2.7.11, error rate normal"

time to detect, to first action and to mitigation are measured from the first alert
start; see docs/incidents.md.
"""


def add_parser(subparsers: Any) -> None:
    """Register `incident` and its actions on the root command's subparsers."""
    incident = subparsers.add_parser(
        "incident",
        help="open, close and list incidents; the post-mortem timeline",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    incident.set_defaults(run=run)
    sub = incident.add_subparsers(dest="incident_command", metavar="ACTION", required=True)

    # Only the timeline polls the fleet; the others read or write the audit log alone, so they
    # take the config file (for audit.path) and --db, and refuse the demo's and --read-only.
    opener = sub.add_parser("open", help="record that an incident began; prints its id")
    log_options(opener)
    opener.add_argument("title", help="what is wrong, in a few words")
    opener.add_argument("--ticket", default="", help="the incident ticket, e.g. INC-7781")
    opener.add_argument("--service", default="", help="the service it is about")
    opener.add_argument("--env", default="", dest="environment", help="its environment")

    close = sub.add_parser("close", help="record that an incident ended")
    log_options(close)
    close.add_argument("id", nargs="?", help="INC-42 (default: the only open incident)")
    close.add_argument("--reason", default="", help="how it ended, e.g. what mitigated it")

    listing = sub.add_parser("list", help="incidents in the audit log, open ones first")
    log_options(listing)
    listing.add_argument("--all", action="store_true", help="closed ones too (default: open only)")

    timeline = sub.add_parser(
        "timeline",
        help="alerts, changes, actions and verdicts in order, with time to detect/act/mitigate",
        description="Merge alerts (as the connectors report them now), changes, audited actions "
        "and canary verdicts into one timeline. Markdown to paste into a post-mortem, or JSON.",
    )
    shared_options(timeline)
    timeline.add_argument(
        "--db",
        metavar="PATH",
        help="audit log: an SQLite file or postgresql://user@host/db "
        "(default: config store:, else audit.path)",
    )
    period = timeline.add_mutually_exclusive_group()
    period.add_argument(
        "--since", type=when, metavar="WHEN", help="from an age (2h, 30m) or a time (default 2h)"
    )
    period.add_argument(
        "--incident",
        metavar="ID",
        help="the incident's period: 2 h before it opened until it closed (or now)",
    )
    timeline.add_argument(
        "--service", default="", help="only this service (and fleet-wide entries)"
    )
    timeline.add_argument("--format", choices=("md", "json"), default="md")
    timeline.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")


def run(args: argparse.Namespace) -> int:
    from cockpit.audit.records import AuditError
    from cockpit.incident.incidents import IncidentError
    from cockpit.sanitize import clean

    try:
        return _COMMANDS[args.incident_command](args)
    except (IncidentError, AuditError) as exc:
        print(f"cockpit incident: {clean(str(exc))}", file=sys.stderr)
        return Exit.USAGE
    except OSError as exc:
        print(f"cockpit incident: {clean(str(exc))}", file=sys.stderr)
        return Exit.USAGE


def _path(args: argparse.Namespace) -> tuple[Any, Any]:
    """The settings and the audit log this command uses (as `cockpit audit` finds it)."""
    import os

    from cockpit.audit.store import default_path
    from cockpit.cli.common import load_settings
    from cockpit.team.store_config import team_store

    settings = load_settings(args, resolve_secrets=False)
    team = team_store(args.db, settings)
    if team is not None:
        return settings, team
    configured = settings.audit.path
    return settings, args.db or (
        os.path.expanduser(configured) if configured else str(default_path())
    )


def _store(where: Any, *, create: bool = True, read_only: bool = False) -> Any:
    """The audit log `_path` named: the team store (a StoreConfig) or an SQLite file."""
    from cockpit.audit.store import open_store
    from cockpit.clock import SystemClock

    if isinstance(where, str):
        return open_store(where, clock=SystemClock(), create=create, read_only=read_only)
    return open_store(clock=SystemClock(), store=where, create=create, read_only=read_only)


def _actor() -> Any:
    from cockpit import __version__
    from cockpit.actions.identity import current_actor

    return current_actor(__version__)


def _open(args: argparse.Namespace) -> int:
    from cockpit.incident.incidents import checked_title, open_incident
    from cockpit.sanitize import clean

    checked_title(args.title, args.service, args.environment)  # before a log is created
    _, path = _path(args)
    with _store(path) as store:
        inc = open_incident(
            store,
            _actor(),
            args.title,
            ticket=args.ticket,
            service=args.service,
            environment=args.environment,
        )
    print(inc.id)
    print(f"opened {inc.id}: {clean(inc.title)}", file=sys.stderr)
    return Exit.OK


def _close(args: argparse.Namespace) -> int:
    from cockpit.incident.incidents import close_incident

    _, path = _path(args)
    with _store(path, create=False) as store:
        inc = close_incident(store, _actor(), args.id, reason=args.reason)
    print(f"closed {inc.id}")
    return Exit.OK


def _list(args: argparse.Namespace) -> int:
    from cockpit.clock import SystemClock, ago
    from cockpit.incident.incidents import incidents
    from cockpit.sanitize import clean

    _, path = _path(args)
    found = incidents(_read(path, kinds=("incident.open", "incident.close")))
    _record_read(path, "incident.list", incidents=len(found))
    shown = sorted(found, key=lambda i: (not i.open, -i.record))
    if not args.all:
        shown = [i for i in shown if i.open]
    if not shown:
        print("no open incidents" if not args.all else "no incidents")
        return Exit.OK
    now = SystemClock().now()
    for i in shown:
        state = "open" if i.open else f"closed {ago(i.closed_at, now)} ago by {clean(i.closed_by)}"
        where = f" {clean(i.service)}/{clean(i.environment) or '*'}" if i.service else ""
        ticket = f" [{clean(i.ticket)}]" if i.ticket else ""
        print(
            f"{i.id}  {state}  opened {ago(i.opened_at, now)} ago by {clean(i.opened_by)}"
            f"{where}{ticket}  {clean(i.title)}"
        )
    return Exit.OK


def _read(path: Any, *, kinds: tuple[str, ...], after: int | None = None) -> list[Any]:
    """The log's records of `kinds` (after seq `after`), read-only; AuditError when there is
    no log."""
    from cockpit.audit import EventType

    with _store(path, create=False, read_only=True) as store:
        return list(store.records(event_types=[EventType(k) for k in kinds], after_seq=after))


def _timeline(args: argparse.Namespace) -> int:
    import asyncio

    from cockpit.audit.records import AuditError, DamagedLog
    from cockpit.cli.common import resolve_when
    from cockpit.clock import SystemClock
    from cockpit.gcpause import paused_gc
    from cockpit.incident import render
    from cockpit.incident.correlate import WINDOW
    from cockpit.incident.incidents import PREFIX, IncidentError, incident_id, incidents
    from cockpit.incident.timeline import build, read_records
    from cockpit.status import fleet_snapshot

    settings, path = _path(args)
    clock = SystemClock()
    now = clock.now()
    incident = None
    if args.incident:
        wanted = incident_id(args.incident)
        # Its id is the seq of the record that opened it: nothing before that opens or closes
        # it, so the log is read from there on, not from record 1.
        kinds = ("incident.open", "incident.close")
        after = int(wanted.removeprefix(PREFIX)) - 1
        every = {i.id: i for i in incidents(_read(path, kinds=kinds, after=after))}
        if wanted not in every:
            raise IncidentError(f"no incident {wanted} in the audit log")
        incident = every[wanted]
        since = incident.opened_at - WINDOW
        until = incident.closed_at or now
    else:
        since = resolve_when(args.since or "2h", now) or now - timedelta(hours=2)
        until = now
    notes = []
    try:
        with _store(path, create=False, read_only=True) as store, paused_gc():
            records = read_records(store, since, until)
    except AuditError as exc:
        if isinstance(exc, DamagedLog):
            raise
        records = []
        notes.append(f"no audit log ({exc}): actions, verdicts and incidents unknown")
    snapshot = asyncio.run(fleet_snapshot(settings, clock))
    with paused_gc():
        timeline = build(
            snapshot,
            records,
            since=since,
            until=until,
            incident=incident,
            service=args.service or (incident.service if incident else ""),
            notes=notes,
        )
        text = render.as_json(timeline) if args.format == "json" else render.markdown(timeline)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if records:
        _record_read(path, "incident.timeline", entries=len(timeline.entries))
    failed = [s for s in snapshot.sources.values() if not s.ok]
    return Exit.FAILED if failed else Exit.OK


def _record_read(path: Any, action: str, **extra: Any) -> None:
    """Reading the log through the cockpit is recorded (PCI DSS 10.2.1.3), as `audit show` does;
    a log that cannot take the record gets a warning, not a stop."""
    from cockpit.audit import AuditEvent, EventType
    from cockpit.audit.records import AuditError
    from cockpit.sanitize import clean

    event = AuditEvent(EventType.AUDIT_READ, _actor(), None, action, "success", extra=extra)
    try:
        with _store(path, create=False) as store:
            store.append(event)
    except AuditError as exc:
        print(
            f"cockpit incident: warning: this read was not recorded: {clean(str(exc))}",
            file=sys.stderr,
        )


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "open": _open,
    "close": _close,
    "list": _list,
    "timeline": _timeline,
}
