"""The pods view of one service in one environment: revisions, pods, events, a followed log.

Read-only and on demand (what k9s users reach for first). The app hands the screen its
request path (the hub's `detail` and `logs`); the screen fetches in workers, so a slow API
server never blocks the UI, and follows at most one log at a time, bounded by LogTail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Log, Static

from cockpit.clock import ago
from cockpit.errors import ConnectorError
from cockpit.fleet.detail import LOG_LINES_KEPT, LogTail, LogTarget, ServiceDetail
from cockpit.keys import BY_ID, DETAIL_KEYS
from screens.base import bindings
from screens.table import LiveTable
from screens.widgets import txt

LOG_TAIL = 200  # lines of history a follow starts with (kubectl logs --tail)


class DetailSource(Protocol):
    """The request path the app hands down (the hub implements it)."""

    async def detail(self, service: str, environment: str) -> ServiceDetail | None: ...

    def logs(self, target: LogTarget, tail: int) -> AsyncIterator[str]: ...


@dataclass
class OpenPods(Message):
    """A screen asks the app to open the pods view of a cell."""

    service: str
    """The service whose workload to show."""
    environment: str
    """The environment it runs in."""


class PodsScreen(Screen[None]):
    """ReplicaSets per revision, pods with readiness, restarts and age, the last events."""

    BINDINGS = bindings((BY_ID["back"],)) + bindings(DETAIL_KEYS, "pods")

    def __init__(
        self, service: str, environment: str, source: DetailSource, now: Callable[[], datetime]
    ) -> None:
        super().__init__()
        self.service = service
        self.environment = environment
        self.source = source
        self.now = now
        self.detail: ServiceDetail | None = None
        self.tail = LogTail()
        self.following: LogTarget | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="pods-body"):
            yield Static(id="pods-head")
            yield Static(Text("ReplicaSets", style="bold"))
            yield LiveTable(
                [
                    ("rev", "Rev", 4),
                    ("version", "Version", 14),
                    ("ready", "Ready", 7),
                    ("name", "ReplicaSet", None),
                ],
                id="revisions",
            )
            yield Static(Text("Pods (l follows the log of the selected pod)", style="bold"))
            yield LiveTable(
                [
                    ("name", "Pod", None),
                    ("ready", "Ready", 6),
                    ("status", "Status", 18),
                    ("restarts", "Restarts", 8),
                    ("age", "Age", 5),
                    ("rev", "Rev", 4),
                ],
                id="pods",
            )
            yield Static(Text("Events (last 20)", style="bold"))
            yield LiveTable(
                [
                    ("age", "Age", 5),
                    ("type", "Type", 8),
                    ("reason", "Reason", 18),
                    ("object", "Object", 28),
                    ("message", "Message", None),
                ],
                id="events",
            )
            yield Static(id="log-head")
            yield Log(max_lines=LOG_LINES_KEPT, id="log")

    def on_mount(self) -> None:
        self.query_one("#log-head", Static).update(Text("Log: none followed", style="dim"))
        self.query_one("#pods-head", Static).update(
            Text.assemble(
                txt(self.service, "bold"), " in ", txt(self.environment, "bold"), ": loading…"
            )
        )
        self.run_worker(self._load(), group="detail", exclusive=True, exit_on_error=False)

    async def _load(self) -> None:
        try:
            detail = await self.source.detail(self.service, self.environment)
        except (ConnectorError, TimeoutError) as exc:
            self._head(Text(f"cannot load: {exc}" if str(exc) else "timed out", style="red"))
            return
        self.show_detail(detail)

    def _head(self, tail: Text) -> None:
        head = Text.assemble(txt(self.service, "bold"), " in ", txt(self.environment, "bold"))
        head.append("  ")
        head.append_text(tail)
        self.query_one("#pods-head", Static).update(head)

    def show_detail(self, detail: ServiceDetail | None) -> None:
        self.detail = detail
        if detail is None:
            self._head(Text("no connector shows pods for this cell", style="dim"))
            return
        now = self.now()
        self._head(
            Text.assemble(
                txt(f"{detail.kind} {detail.namespace}/{detail.name}"),
                (f"  from {detail.source}, fetched {ago(detail.observed_at, now)} ago", "dim"),
            )
        )
        self.query_one("#revisions", LiveTable).reconcile(
            (
                r.name,
                [
                    Text(str(r.revision), style="bold" if r.current else ""),
                    txt(r.version, limit=14),
                    Text(f"{r.ready}/{r.desired}"),
                    txt(r.name),
                ],
            )
            for r in detail.revisions
        )
        self.query_one("#pods", LiveTable).reconcile(
            (
                p.name,
                [
                    txt(p.name),
                    Text(
                        p.ready,
                        style="" if p.ready.split("/")[0] == p.ready.split("/")[1] else "yellow",
                    ),
                    txt(p.status, "" if p.status in ("Running", "Succeeded") else "red"),
                    Text(str(p.restarts), style="yellow" if p.restarts else ""),
                    Text(ago(p.created, now)),
                    Text(str(p.revision or "")),
                ],
            )
            for p in detail.pods
        )
        self.query_one("#events", LiveTable).reconcile(
            (
                f"{n}",
                [
                    Text(ago(e.at, now)),
                    Text(e.type, style="red" if e.type == "Warning" else ""),
                    txt(e.reason),
                    txt(e.object, limit=28),
                    txt(f"{e.message} (x{e.count})" if e.count > 1 else e.message, limit=300),
                ],
            )
            for n, e in enumerate(detail.events)
        )
        self.query_one("#pods", LiveTable).focus()

    def action_logs(self) -> None:
        """Follow the selected pod's log (read-only); a new choice replaces the old follow."""
        pod = self.query_one("#pods", LiveTable).current_key()
        if self.detail is None or pod is None:
            self.notify("Select a pod first", severity="warning", timeout=3)
            return
        self.following = self.detail.target(pod)
        self.tail = LogTail()
        self.query_one("#log", Log).clear()
        self.query_one("#log-head", Static).update(
            Text.assemble(("Log of ", "bold"), txt(pod, "bold"), (" (following)", "dim"))
        )
        self.run_worker(
            self._follow(self.following), group="logs", exclusive=True, exit_on_error=False
        )

    async def _follow(self, target: LogTarget) -> None:
        log = self.query_one("#log", Log)
        try:
            async for line in self.source.logs(target, LOG_TAIL):
                log.write_line(self.tail.add(line))
        except ConnectorError as exc:
            log.write_line(f"[log ended: {self.tail.add(str(exc))}]")

    def action_back(self) -> None:
        self.dismiss()
