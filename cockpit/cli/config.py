"""`cockpit config check|path`: validate the configuration, or show which file is used."""

from __future__ import annotations

import argparse
from typing import Any

from cockpit.cli.common import shared_options


def add_parser(sub: Any) -> None:
    config = sub.add_parser("config", help="check the configuration or show where it is")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser(
        "check", help="validate the config without starting the UI (exit 2 if bad)"
    )
    shared_options(check)
    check.add_argument("--no-secrets", action="store_true", help="do not resolve secret references")
    path = config_sub.add_parser("path", help="print the config file that would be used")
    shared_options(path)
    config.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cockpit import config
    from cockpit.cli.common import load_settings
    from cockpit.cli.exits import Exit

    if args.config_command == "path":
        path = config.find(args.config)
        print(path if path else f"(none: demo fleet; would read {config.default_path()})")
        return Exit.OK
    settings = load_settings(args, resolve_secrets=not args.no_secrets)
    where = settings.file or "(built-in demo)"
    envs = ", ".join(
        e.name + (" [production]" if e.production else "") for e in settings.environments
    )
    print(f"{where}: OK")
    print(f"  environments: {envs}")
    if settings.store is not None:
        mode = f", sslmode {settings.store.sslmode}" if settings.store.sslmode else ""
        mode += ", client certificate" if settings.store.sslcert else ""
        print(f"  team store: postgresql://{settings.store.where()}{mode}")
    for spec in settings.connectors:
        print(
            f"  connector {spec.name} ({spec.type}): every {spec.interval:g}s, "
            f"timeout {spec.timeout:g}s, stale after {spec.stale_after:g}s"
        )
    _gate_warnings(settings)
    return Exit.FAILED if settings.problems else Exit.OK


def _gate_warnings(settings: Any) -> None:
    """A required gate only a connector could report is named (a typo is unknown at every
    promote, and blocks production ones); a warning: the exit status stays as it was."""
    import difflib
    import sys
    from pathlib import Path

    from cockpit import config
    from cockpit.actions.gates import BUILTIN, SUPPLY, connector_named
    from cockpit.connect.options import LineMap
    from cockpit.sanitize import clean

    found = list(connector_named(settings.policy))
    if not found:
        return
    file = settings.file
    lines = config.read_yaml(Path(file))[1] if file else LineMap("(built-in demo)")
    for place, name in found:
        close = difflib.get_close_matches(name, [*BUILTIN, *SUPPLY], n=1, cutoff=0.6)
        why = (
            f"{name!r} is neither a builtin nor a supply-chain gate: reported by a connector?"
            + (f" (did you mean {close[0]!r}?)" if close else "")
            + "; unknown at a promote while nothing reports it"
        )
        print(f"cockpit: config warning: {clean(str(lines.error(place, why)))}", file=sys.stderr)
