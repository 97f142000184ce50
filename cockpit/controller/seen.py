"""Which controller leads, as a TUI in team mode sees it: read off the UI thread, then worded.

In team mode the TUIs leave automatic rollbacks to the controller, so an operator must see
whether one is there: "controller: HOST, since HH:MM", or "controller: none" (a warning)
when no lease was ever written, the leader stepped down, or its heartbeat is older than
`controller.stale_after`. A lease that cannot be read is "controller: unknown", never
taken for a live one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.controller.lease import LeaseInfo
    from cockpit.team.store_config import StoreConfig


class Seen:
    """The lease as last read at `read_at` (the app's clock); `error` when it could not be.

    (A plain class: the top bar formats it once a second.)
    """

    __slots__ = ("error", "info", "read_at")

    def __init__(self, info: LeaseInfo | None, read_at: datetime, error: str = "") -> None:
        self.info, self.read_at, self.error = info, read_at, error


def read(store: StoreConfig, now: datetime) -> Seen:
    """The lease from the team store: blocking, so call it in a worker thread."""
    from cockpit.controller.lease import read_lease
    from cockpit.team.connect import connect

    try:
        with connect(store, autocommit=True) as conn:
            return Seen(read_lease(conn), now)
    except Exception as exc:  # connect errors come scrubbed of the password
        from cockpit.team.connect import scrub

        return Seen(None, now, scrub(str(exc)) or type(exc).__name__)


def words(seen: Seen | None, now: datetime, stale_after: float) -> tuple[str, str, bool]:
    """(the top bar's words, the short form for 80 columns, whether it is a warning)."""
    if seen is None:
        return "controller: reading", "ctl ?", False
    if seen.error:
        return "controller: unknown", "ctl ?", True
    info = seen.info
    if info is None:
        return "controller: none", "no controller", True
    age = info.age + max(0.0, (now - seen.read_at).total_seconds())
    if info.ended is not None or age > stale_after:
        return "controller: none", "no controller", True
    since = info.since.astimezone(now.tzinfo)
    when = since.strftime("%H:%M") if since.date() == now.date() else since.strftime("%d %b %H:%M")
    from cockpit.sanitize import clean

    name = clean(info.host)  # written by a controller, still text from outside this process
    host = name if len(name) <= 24 else name[:23] + "…"
    return f"controller: {host}, since {when}", f"ctl {host[:12]}", False
