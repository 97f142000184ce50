"""`cockpit connectors`: the installed connector types, their capabilities and options."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    connectors = sub.add_parser(
        "connectors", help="list installed connector types and their capabilities"
    )
    connectors.add_argument("--json", action="store_true", help="machine-readable output")
    connectors.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cockpit.connect.connector_docs import run_connectors

    return run_connectors(args)
