"""`cockpit controller`: run the team's headless controller (team mode only)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from cockpit.cli.common import config_option

DESCRIPTION = """\
Run the hub, the canary judge, gates, automatic rollbacks and checkpoints without a
screen, for the whole team. Team mode only: the config needs store: {url: postgresql://...}.
Exactly one controller per team store leads (a PostgreSQL advisory lock); start two or
more on different hosts and a standby takes over within about 15 s of the leader's end.

Endpoints: GET /healthz (200 leader or standby, 503 when the store cannot be reached),
GET /readyz (200 on the leader only), GET /metrics (Prometheus), and the gate webhooks
configured under webhooks:. SIGTERM or SIGINT stops it, handing over at once.
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "controller",
        help="run the team's headless controller (team mode)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    config_option(p)
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where to serve health, metrics and webhooks (default: controller.listen, "
        "127.0.0.1:9464; another address than loopback needs controller.allow_remote: true)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from cockpit.cli.common import load_settings
    from cockpit.cli.exits import Exit
    from cockpit.controller.config import loopback, split_listen

    settings = load_settings(args)
    if settings.store is None:
        print(
            "cockpit controller: team mode only: the config has no store: section "
            "(store: {url: postgresql://user@host/database}); a single-user cockpit runs "
            "its automatic actions itself",
            file=sys.stderr,
        )
        return Exit.USAGE
    listen = args.listen or settings.controller.listen
    try:
        host, port = split_listen(listen)
    except ValueError as exc:
        print(f"cockpit controller: --listen: {exc}", file=sys.stderr)
        return Exit.USAGE
    if not loopback(host) and not settings.controller.allow_remote:
        print(
            f"cockpit controller: --listen: {host} is not a loopback address; the endpoints "
            "have no authentication of their own: set controller.allow_remote: true",
            file=sys.stderr,
        )
        return Exit.USAGE
    _logging()
    try:
        _serve(settings, host, port)
    except OSError as exc:  # the address is taken or not ours
        print(
            f"cockpit controller: cannot listen on {listen}: {exc.strerror or exc}", file=sys.stderr
        )
        return Exit.USAGE
    return Exit.OK


def _serve(settings: Any, host: str, port: int) -> None:
    import asyncio
    import signal

    from cockpit.controller.run import Controller

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await Controller(settings, host=host, port=port).run(stop)

    asyncio.run(main())


class LogLine(logging.Formatter):
    """One line per event on stderr (the journal, under systemd): a connector's message
    cannot forge a line of its own; a traceback follows its line, cleaned the same way."""

    def format(self, record: logging.LogRecord) -> str:
        from cockpit.sanitize import clean

        text = clean(f"{record.levelname} {record.name}: {record.getMessage()}")
        if record.exc_info:
            text += "\n" + clean(self.formatException(record.exc_info), multiline=True)
        return text


def _logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(LogLine())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
