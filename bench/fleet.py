"""Issue 2's performance figures: cold start (bench/startup.py), refresh at scale, idle CPU, fan-out.

    .venv/bin/python -m bench.fleet [startup|scale [SIZE ...]|idle|fanout ...]

Every figure is a ratio against a baseline run in the same invocation, or an absolute
bound the issue sets (50 ms, 250 MB, 2% of a core). Each part prints one line per figure.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.startup import startup


async def _overview_drawn(app: Any) -> None:
    """Until the first painted overview: the view has drawn a snapshot with services."""
    while not (getattr(app.screen, "generation", 0) and app.hub.snapshot.services):  # noqa: ASYNC110
        await asyncio.sleep(0.001)


async def _scale(services: int, iterations: int) -> dict[str, float]:
    from cockpit import config
    from cockpit.app import CockpitApp
    from cockpit.clock import FixedClock

    clock = FixedClock(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
    built = time.perf_counter()
    settings = config.load(None, seed=7, scale=services, env={})
    app = CockpitApp(settings, clock=clock, poll=False)
    app.animation_level = "none"
    refresh, update, total, unchanged = [], [], [], []
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        await _overview_drawn(app)
        first = time.perf_counter() - built
        await pilot.pause()
        runs = len(app.hub.snapshot.runs)
        print(
            f"scale: {services} services x {len(settings.environments)} environments, "
            f"{runs} pipeline runs, first settled overview (every source read whole) {first:.2f} s after the "
            "settings were read (the demo builds its fleet in that time)"
        )
        from textual.geometry import Region

        table = screen.query_one("#matrix")

        async def one(advance: float) -> tuple[float, float]:
            clock.advance(advance)
            t0 = time.perf_counter()
            await app.hub.refresh(name="demo")
            t1 = time.perf_counter()
            while screen.generation != app.hub.snapshot.generation:  # type: ignore[attr-defined]  # noqa: ASYNC110
                await asyncio.sleep(0)  # let the app's message loop apply the snapshot
            # Paint: every visible line of the overview table, as the compositor would.
            table.render_lines(Region(0, 0, table.size.width, table.size.height))
            return t1 - t0, time.perf_counter() - t1

        for _ in range(iterations):
            r, u = await one(1)
            refresh.append(r)
            update.append(u)
            total.append(r + u)
            await pilot.pause()
        await one(1)
        await one(0)  # the demo's second poll of one instant has its evidence made: settle
        for _ in range(iterations):
            r, u = await one(0)  # nothing moved: the connector hands back what it had
            unchanged.append(r + u)
            await pilot.pause()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median(total) * 1000
    aim_ms, aim_mb = TARGETS.get(services, TARGETS[10_000])  # the bound for this size
    still = statistics.median(unchanged) * 1000
    print(
        f"scale: hub refresh {statistics.median(refresh) * 1000:.1f} ms + screen update and paint "
        f"{statistics.median(update) * 1000:.1f} ms; together median {med:.1f} ms "
        f"(target <= {aim_ms:.0f}) {'OK' if med <= aim_ms else 'OVER'}"
    )
    print(f"scale: a refresh in which nothing changed, median {still:.2f} ms")
    print(
        f"scale: peak RSS {rss:.0f} MB (target <= {aim_mb:.0f}) {'OK' if rss <= aim_mb else 'OVER'}"
    )
    return {"first": first, "median": med, "unchanged": still, "rss": rss}


async def _live_first(services: int) -> float:
    """Seconds from reading the settings to the first painted overview with services, the
    app started as `cockpit --demo-scale N` starts it: polling on, the real clock. A source
    still reading (the demo's history at this size) is painted as such and filled in later;
    `_scale`'s figure waits for the settled fleet instead."""
    from cockpit import config, gcpause
    from cockpit.app import CockpitApp

    built = time.perf_counter()
    gcpause.hold_for_start()  # as `cockpit` does (cli._tui): no collection until the first frame
    try:
        settings = config.load(None, seed=7, scale=services, env={})
        app = CockpitApp(settings)
        app.animation_level = "none"
        async with app.run_test(size=(160, 50)) as pilot:
            await _overview_drawn(app)
            first = time.perf_counter() - built
            await pilot.pause()
    finally:
        gcpause.started()
    return first


# Issue 12's targets by fleet size: refresh + update median (ms), peak RSS (MB); the first
# painted overview (s), judged by the slowest of LIVE_STARTS starts.
TARGETS = {10_000: (50.0, 250.0), 50_000: (250.0, 1024.0)}
FIRST_OVERVIEW = {10_000: 2.0}
LIVE_STARTS = 3


def scale(*sizes: int, iterations: int = 40) -> None:
    """Refresh + screen update at each fleet size, each in a process of its own (so its
    peak RSS is its own), then the growth from the smallest to the largest."""
    if not sizes:
        sizes = (2000,)
    if len(sizes) == 1:
        asyncio.run(_scale(sizes[0], iterations))
        return
    import json

    found: dict[int, dict[str, float]] = {}
    for size in sizes:
        code = (
            "import asyncio, json\nfrom bench.fleet import _scale\n"
            f"print('RESULT', json.dumps(asyncio.run(_scale({size}, {iterations}))))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=3600
        )
        for line in out.stdout.splitlines():
            if line.startswith("RESULT "):
                found[size] = json.loads(line.split(" ", 1)[1])
            else:
                print(line, flush=True)
        code = (
            "import asyncio\nfrom bench.fleet import _live_first\n"
            f"print('LIVE', asyncio.run(_live_first({size})))"
        )
        starts = []
        for _ in range(LIVE_STARTS):  # each a fresh process, as each `cockpit` start is
            out = subprocess.run(
                [sys.executable, "-c", code],
                check=True,
                capture_output=True,
                text=True,
                timeout=3600,
            )
            live = next(line for line in out.stdout.splitlines() if line.startswith("LIVE "))
            starts.append(float(live.split()[1]))
        found[size]["live"] = max(starts)
        bound = FIRST_OVERVIEW.get(size)
        verdict = (
            f" (target <= {bound:.0f} s) {'OK' if max(starts) <= bound else 'OVER'}"
            if bound
            else ""
        )
        print(
            f"scale: {size} services, first painted overview as `cockpit` starts (polling on), "
            f"{LIVE_STARTS} starts: {', '.join(f'{t:.2f}' for t in starts)} s; slowest "
            f"{max(starts):.2f} s{verdict}",
            flush=True,
        )
    print(f"scale: growth ({os.getloadavg()[0]:.1f} load)")
    print(
        "  services | first overview live (slowest) / settled | refresh+update median | nothing changed | peak RSS"
    )
    for size, f in found.items():
        aim = TARGETS.get(size)
        verdict = ""
        if aim is not None:
            ok = f["median"] <= aim[0] and f["rss"] <= aim[1]
            verdict = f"  targets <= {aim[0]:.0f} ms, <= {aim[1]:.0f} MB: {'OK' if ok else 'OVER'}"
        print(
            f"  {size:>8} | {f['live']:>20.2f} s / {f['first']:>6.2f} s | {f['median']:>18.1f} ms | "
            f"{f['unchanged']:>12.2f} ms | {f['rss']:>5.0f} MB{verdict}"
        )
    small, large = min(found), max(found)
    print(
        f"scale: {large / small:.0f}x the services: refresh+update {found[large]['median'] / found[small]['median']:.1f}x, "
        f"nothing-changed refresh {found[large]['unchanged'] / found[small]['unchanged']:.1f}x, "
        f"peak RSS {found[large]['rss'] / found[small]['rss']:.1f}x"
    )


IDLE_APP = """
import resource, sys, time
from datetime import UTC, datetime
from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock

SECONDS = float(sys.argv[1])

class Idle(CockpitApp):
    async def on_mount(self):
        await super().on_mount()
        self.set_timer(2.0, self._start)

    def _start(self):
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        self.set_timer(SECONDS, self._stop)

    def _stop(self):
        wall = time.perf_counter() - self.t0
        cpu = time.process_time() - self.c0
        print(f"{cpu / wall * 100:.2f}")
        self.exit()

# A clock that never moves: the demo fleet has nothing new to report, polling continues.
clock = FixedClock(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
Idle(config.load(None, seed=7, scale=12), clock=clock).run(headless=True)
"""


def idle(seconds: float = 20.0) -> None:
    """CPU used by a running cockpit whose connectors report nothing new."""
    import tempfile

    home = tempfile.mkdtemp(prefix="cockpit-bench-")
    env = {**os.environ, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home}
    out = subprocess.run(
        [sys.executable, "-c", IDLE_APP, str(seconds)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    percent = float(out.stdout.strip().splitlines()[-1])
    print(
        f"idle: {percent:.2f}% of one core over {seconds:g} s of polling with no changes (target < 2%) {'OK' if percent < 2 else 'OVER'}"
    )


async def _fanout(connectors: int, latency: float) -> None:
    from cockpit.clock import SystemClock
    from cockpit.config import ConnectorSpec
    from cockpit.connect.options import Duration
    from cockpit.fleet.hub import Hub
    from cockpit.model import Environment
    from connectors.demo import DemoConnector, DemoOptions

    envs = (Environment("dev", 0), Environment("staging", 1), Environment("prod", 2, True))
    specs = [
        ConnectorSpec(
            f"slow-{i}",
            "demo",
            DemoConnector,
            DemoOptions(seed=i, services=3, latency=Duration(latency)),
            10,
            5,
            30,
        )
        for i in range(connectors)
    ]
    hub = Hub(specs, envs, clock=SystemClock())
    hub.open()
    single = Hub(specs[:1], envs, clock=SystemClock())
    t0 = time.perf_counter()
    await single.refresh()
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    await hub.refresh()
    everything = time.perf_counter() - t0
    ok = all(s.ok for s in hub.snapshot.sources.values())
    ratio = everything / latency
    print(
        f"fanout: {connectors} connectors answering in {latency * 1000:.0f} ms: one connector {one * 1000:.0f} ms, "
        f"all of them {everything * 1000:.0f} ms = {ratio:.2f}x the latency (target <= 1.2x) "
        f"{'OK' if ratio <= 1.2 and ok else 'OVER'}"
    )


def fanout(connectors: int = 20, latency: float = 0.3) -> None:
    asyncio.run(_fanout(connectors, latency))


PARTS: dict[str, Callable[[], None]] = {
    "startup": startup,
    "scale": scale,
    "idle": idle,
    "fanout": fanout,
}


def main(argv: list[str] | None = None) -> None:
    """`scale` takes fleet sizes after it: `python -m bench.fleet scale 2000 10000 50000`."""
    args = (sys.argv[1:] if argv is None else argv) or list(PARTS)
    i = 0
    while i < len(args):
        name, i = args[i], i + 1
        sizes = []
        while name == "scale" and i < len(args) and args[i].replace("_", "").isdigit():
            sizes.append(int(args[i]))
            i += 1
        if name == "scale":
            scale(*sizes)
        else:
            PARTS[name]()


if __name__ == "__main__":
    main()
