"""`cockpit store ...`: set up the team store (PostgreSQL) that every operator's cockpit shares.

Exit codes: 0 done, 2 bad usage, no team store configured, or the database refused
(connection, permissions). The password comes from `store: password:` (env: or keyring:)
or from libpq's own means (PGPASSWORD, ~/.pgpass); never from the command line.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cockpit.cli.common import config_option

if TYPE_CHECKING:
    from cockpit.team.store_config import StoreConfig

EPILOG = """\
examples:
  cockpit store init                      as the database's owner, with config's store:
  cockpit store init --print-only         the SQL it would run, without connecting
  PGPASSWORD=... cockpit store init --url postgresql://owner@db.example/cockpit

then give each operator a login role of their own in the writers' group:
  CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE cockpit_writer;
and move a personal log in, while the team log is still empty:
  cockpit audit copy --from ~/.local/share/cockpit/audit.sqlite3
"""


def add_parser(subparsers: Any) -> None:
    """Register `store` and its actions on the root command's subparsers."""
    store = subparsers.add_parser(
        "store",
        help="set up the team store (PostgreSQL): schema, roles, append-only grants",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    store.set_defaults(run=run)
    sub = store.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    init = sub.add_parser(
        "init",
        help="create schema cockpit, the group roles, the tables and their grants (idempotent)",
        description="Create (or bring up to date) the team store: the group roles "
        "cockpit_writer, cockpit_policy_admin and cockpit_controller, schema cockpit, every "
        "team table, and the append-only walls on the audit log (UPDATE, DELETE, TRUNCATE "
        "revoked; triggers refusing them for everyone). Run it as the database's owner; "
        "running it again changes nothing. Prints the GRANTs it applied.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config_option(init)
    init.add_argument("--url", help="postgresql://owner@host/database (default: config store.url)")
    init.add_argument(
        "--print-only", action="store_true", help="print the SQL and stop (no connection)"
    )


def configured_store(args: argparse.Namespace, url: str | None) -> StoreConfig:
    """The team store `url` names, else config's `store:` section; ConfigError if neither."""
    from cockpit import config
    from cockpit.errors import ConfigError
    from cockpit.team.connect import from_url
    from cockpit.team.store_config import url_problems

    if url:
        problems = url_problems(url)
        if problems:
            why = problems[0].replace(
                "write `password: env:NAME` (or keyring:service/user) under store:",
                "give it through PGPASSWORD or ~/.pgpass",
            )
            raise ConfigError(why, file="(command line)", field="--url")
        return from_url(url)
    found = config.find(getattr(args, "config", None))
    settings = config.load(str(found), resolve_secrets=False) if found else None
    if settings is None or settings.store is None:
        raise ConfigError(
            "no team store: give --url postgresql://... or a store: section in the config",
            file=str(found) if found else "(no config file)",
        )
    return settings.store


def run(args: argparse.Namespace) -> int:
    import sys

    from cockpit.audit.records import AuditError
    from cockpit.cli.exits import Exit
    from cockpit.sanitize import clean
    from cockpit.team import init as team_init

    if args.print_only:
        shown = ""
        for part, statement in team_init.plan():
            if part != shown:
                print(f"-- {part}")
                shown = part
            print(f"{statement};")
        return Exit.OK
    store = configured_store(args, args.url)
    try:
        report = team_init.init(store)
    except AuditError as exc:
        print(f"cockpit store: {clean(str(exc))}", file=sys.stderr)
        return Exit.USAGE
    print(clean(f"team store {store.where()}: initialised ({', '.join(report.parts)})"))
    print("grants applied:")
    for statement in report.grants:
        print(f"  {statement}")
    print("privileges now held on schema cockpit:")
    for grantee, table, privileges in report.privileges:
        print(clean(f"  {grantee:<22} {table:<28} {privileges}"))
    if report.records == 0:
        print("the audit log is empty: `cockpit audit copy --from FILE.sqlite3` can move a "
              "personal log in now")  # fmt: skip
    else:
        print(f"the audit log holds {report.records} records")
    return Exit.OK
