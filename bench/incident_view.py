"""Incident view update with 500 firing alerts and 5,000 changes in the selected alert's window.

Run: .venv/bin/python -m bench.incident_view [--alerts 500] [--changes 5000]
Target (issue 10): the view's update <= 100 ms. The app runs headless at 120x36 (Textual's
test driver) on a source that reports the alerts; the changes reach the view the way
drift and canary steps do, through the app's change recorder (here pre-filled). One update
is `IncidentScreen.show()` of a new snapshot generation: sorting the alerts into the table,
collecting and ranking the selected alert's changes, the changes table and the detail
line; "to the next frame" adds Textual's repaint of the screen. Median of 15 updates, with
the worst.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from bench.incident import T0, changes_and_alerts
from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connector import Capability, Connector
from cockpit.incident.changes import Change
from cockpit.incident.recorder import ChangeRecorder
from cockpit.model import Alert, Observation

RUNS = 15


@dataclass
class NoOptions:
    pass


class Noted(ChangeRecorder):
    """A recorder that already noted `changes` (the bench's stand-in for hours of polls)."""

    def __init__(self, changes: list[Change]) -> None:
        super().__init__()
        self.noted = sorted(changes, key=Change.sort_key)

    def changes(self, since: datetime | None = None, until: datetime | None = None) -> list[Change]:
        return [
            c
            for c in self.noted
            if (since is None or c.at >= since) and (until is None or c.at <= until)
        ]


class NotedApp(CockpitApp):
    """The app with a pre-filled change recorder in place of the one it builds."""

    noted: ChangeRecorder

    @property
    def recorder(self) -> ChangeRecorder:
        return self.noted


def source_of(alerts: list[Alert]) -> type[Connector]:
    class Alerting(Connector):
        CAPABILITIES = frozenset({Capability.ALERTS})
        Options = NoOptions
        USES_HTTP = False

        async def poll(self) -> Observation:
            return Observation(self.name, self.clock.now(), alerts=tuple(alerts))

    return Alerting


async def measure(
    n_alerts: int, n_changes: int, folder: Path
) -> tuple[list[float], list[float], str]:
    from textual.widgets import Static

    from screens.incident import IncidentScreen

    changes, alerts = changes_and_alerts(n_changes, n_alerts)
    base = config.load(None, env={})
    spec = ConnectorSpec("am", "am", source_of(alerts), NoOptions(), 10, 5, 30)
    settings = replace(
        base, connectors=(spec,), audit=config.AuditConfig(str(folder / "audit.sqlite3"))
    )
    app = NotedApp(settings, clock=FixedClock(T0), poll=False)
    app.noted = Noted(changes)
    shows, frames = [], []
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("8")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        for n in range(RUNS):
            # A new generation whose alerts moved on: everything is looked at again.
            snapshot = replace(app.hub.snapshot, generation=app.hub.snapshot.generation + 2 + n)
            start = time.perf_counter()
            screen.show(snapshot)
            shows.append((time.perf_counter() - start) * 1000)
            await pilot.pause()
            frames.append((time.perf_counter() - start) * 1000)
        heading = str(screen.query_one("#incident-for", Static).content)
    return shows, frames, heading


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.incident_view", description=__doc__)
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--changes", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-") as tmp:
        shows, frames, heading = asyncio.run(measure(args.alerts, args.changes, Path(tmp)))
    median = statistics.median(shows)
    print(
        f"incident view: {args.alerts} firing alerts, {args.changes:,} changes: show() median "
        f"{median:.1f} ms, worst {max(shows):.1f} ms (target <= 100 ms); to the next frame "
        f"median {statistics.median(frames):.1f} ms"
    )
    print(f"  selected alert: {heading}")
    ok = median <= 100
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
