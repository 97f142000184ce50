"""The controller's log: one line per event, whatever a connector's message holds."""

from __future__ import annotations

import logging
import sys

from cockpit.controller.cli import LogLine


def _record(message: str, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("cockpit.hub", logging.WARNING, __file__, 1, message, (), exc_info)  # type: ignore[arg-type]


def test_a_message_cannot_forge_a_log_line_or_reach_the_terminal() -> None:
    line = LogLine().format(_record("demo: 502\nINFO cockpit.controller.run: all good \x1b[2J"))
    assert "\n" not in line and "\x1b" not in line
    assert line.startswith("WARNING cockpit.hub: demo: 502")


def test_a_traceback_follows_its_line() -> None:
    try:
        raise ValueError("bad \x1b[31m")
    except ValueError:
        line = LogLine().format(_record("the term failed", sys.exc_info()))
    first, *rest = line.splitlines()
    assert first == "WARNING cockpit.hub: the term failed"
    assert rest[-1].startswith("ValueError: bad ") and "\x1b" not in line
