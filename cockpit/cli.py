"""The `cockpit` command line: the TUI by default, and subcommands for scripts and CI.

Exit codes: 0 success, 1 a connector (or check) failed, 2 bad usage or configuration.
Modules are imported per command so `cockpit status` never loads textual.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cockpit import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
Release Cockpit: pipelines, environments, canaries, drift and alerts in one terminal,
with approve, promote and roll back under policy, every action audited.

With no command it starts the terminal UI. With no config file it shows the built-in
demo fleet. Config is read from --config, $COCKPIT_CONFIG, or config.yaml in the user
config directory (see `cockpit config path`).
"""

EPILOG = """\
examples:
  cockpit                          the live cockpit (demo fleet without a config)
  cockpit --read-only              the same, with every mutating key disabled
  cockpit status --json            poll every connector once, print the fleet as JSON
  cockpit config check -c examples/prod.yaml
  cockpit connectors               installed connector types and their capabilities
  cockpit rollback payments prod --reason "5xx since 2.7.12" --yes
  cockpit audit verify             prove the audit log is intact

action exit codes: 0 succeeded, 1 failed, 2 usage, 3 refused by policy, 4 waiting for approval
"""


# The options every fleet command shares. They are defined once, on the root parser and on
# each subcommand, with SUPPRESS as the subcommand default: argparse copies a subcommand's
# namespace over the root's, so a real default there would overwrite `cockpit -c FILE rollback`.
SHARED_DEFAULTS = {"config": None, "seed": 7, "demo_scale": None, "read_only": False}


def shared_options(p: argparse.ArgumentParser) -> None:
    """Add -c, --seed, --demo-scale and --read-only to `p`, given before or after a command."""
    p.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="config file (default: $COCKPIT_CONFIG, then the user config dir)",
    )
    p.add_argument(
        "--seed", type=int, default=argparse.SUPPRESS, help="demo fleet seed (default 7)"
    )
    p.add_argument(
        "--demo-scale",
        type=int,
        metavar="N",
        default=argparse.SUPPRESS,
        help="grow the demo fleet to N services",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="disable every mutating key and action (say why)",
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="cockpit",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("--version", action="version", version=f"cockpit {__version__}")
    shared_options(root)
    root.set_defaults(**SHARED_DEFAULTS)
    sub = root.add_subparsers(dest="command", metavar="COMMAND")

    status = sub.add_parser(
        "status",
        help="poll every connector once and print the fleet",
        description="Poll every connector once, print the fleet snapshot, exit 1 if any connector failed.",
    )
    shared_options(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")

    config = sub.add_parser("config", help="check the configuration or show where it is")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser(
        "check", help="validate the config without starting the UI (exit 2 if bad)"
    )
    shared_options(check)
    check.add_argument("--no-secrets", action="store_true", help="do not resolve secret references")
    path = config_sub.add_parser("path", help="print the config file that would be used")
    shared_options(path)

    connectors = sub.add_parser(
        "connectors", help="list installed connector types and their capabilities"
    )
    connectors.add_argument("--json", action="store_true", help="machine-readable output")

    from cockpit.audit.cli import add_parser as add_audit_parser

    add_audit_parser(sub)

    canary = sub.add_parser("canary", help="canary analysis: judge canary against baseline metrics")
    canary_sub = canary.add_subparsers(dest="canary_command", metavar="ACTION", required=True)
    from cockpit.judge.cli import add_parser as add_judge_parser

    add_judge_parser(canary_sub)

    from cockpit.actions_cli import add_parsers as add_action_parsers

    add_action_parsers(sub, shared_options)

    from cockpit.incident.cli import add_parser as add_incident_parser

    add_incident_parser(sub, shared_options)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:
        # `cockpit status | head`: the reader has gone. Python's own recipe: point stdout at
        # /dev/null so the final flush at exit is quiet too, and stop.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _main(argv: Sequence[str] | None) -> int:
    args = parser().parse_args(argv)
    if args.command is not None:
        _one_shot_logging()
    from cockpit.errors import ConfigError

    try:
        if args.command == "status":
            from cockpit.status import run_status

            return run_status(args)
        if args.command == "config":
            return _config(args)
        if args.command == "connectors":
            from cockpit.connector_docs import run_connectors

            return run_connectors(args)
        if args.command == "audit":
            from cockpit.audit.cli import run as run_audit

            return run_audit(args)
        if args.command == "incident":
            from cockpit.incident.cli import run as run_incident

            return run_incident(args)
        if args.command == "canary":
            from cockpit.judge.cli import run as run_canary

            return run_canary(args)
        from cockpit.actions_cli import CELL_ACTIONS, ID_ACTIONS

        if args.command in CELL_ACTIONS or args.command in ID_ACTIONS:
            from cockpit.actions_cli import run as run_action

            return run_action(args)
        return _tui(args)
    except ConfigError as exc:
        print(f"cockpit: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _one_shot_logging() -> None:
    """A command reports every failure itself, once; the hub's log lines ("retry in 5s")
    are for the long-running cockpit, so only errors reach stderr, on one line each."""
    import logging

    from cockpit.sanitize import clean

    class OneLine(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return "cockpit: " + clean(record.getMessage())

    handler = logging.StreamHandler()
    handler.setFormatter(OneLine())
    logging.basicConfig(level=logging.ERROR, handlers=[handler])


def load_settings(args: argparse.Namespace, resolve_secrets: bool = True):  # type: ignore[no-untyped-def]
    from cockpit import config

    if args.demo_scale is not None and args.demo_scale < 1:
        from cockpit.errors import ConfigError

        raise ConfigError("--demo-scale must be at least 1", file="(command line)")
    settings = config.load(
        args.config, seed=args.seed, scale=args.demo_scale, resolve_secrets=resolve_secrets
    )
    for problem in settings.problems:
        print(f"cockpit: warning: {problem} (skipped)", file=sys.stderr)
    return settings


def _config(args: argparse.Namespace) -> int:
    from cockpit import config

    if args.config_command == "path":
        path = config.find(args.config)
        print(path if path else f"(none: demo fleet; would read {config.default_path()})")
        return EXIT_OK
    settings = load_settings(args, resolve_secrets=not args.no_secrets)
    where = settings.file or "(built-in demo)"
    envs = ", ".join(
        e.name + (" [production]" if e.production else "") for e in settings.environments
    )
    print(f"{where}: OK")
    print(f"  environments: {envs}")
    for spec in settings.connectors:
        print(
            f"  connector {spec.name} ({spec.type}): every {spec.interval:g}s, timeout {spec.timeout:g}s, stale after {spec.stale_after:g}s"
        )
    if settings.problems:
        return EXIT_FAILED
    return EXIT_OK


def _tui(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    from cockpit.app import CockpitApp

    app = CockpitApp(settings, read_only=args.read_only)
    app.run()
    return app.return_code or EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
