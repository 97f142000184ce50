"""Memory of a long-running demo: RSS as the live simulation replaces the drawn history.

    .venv/bin/python -m bench.soak [SERVICES] [--minutes 100] [--step 2] [--app]

The demo at SERVICES services (default 10,000) is polled every --step simulated seconds
for --minutes simulated minutes on an injected clock, as fast as it goes; RSS is printed
every 10 simulated minutes, then the figure once it has levelled off (the largest RSS of
the last quarter) against issue 12's 250 MB. By default the hub alone is polled, as the
headless controller runs it; --app runs the cockpit headless around it and waits for each
snapshot to be drawn (slower).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from datetime import UTC, datetime

AIM_MB = 250.0


def rss_mb() -> float:
    """Resident memory now (Linux), in MB."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def soak(services: int, minutes: float, step: float, app: bool) -> list[float]:
    """RSS after each poll, polling the demo for `minutes` simulated minutes."""
    from cockpit import config
    from cockpit.clock import FixedClock

    clock = FixedClock(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
    settings = config.load(None, seed=7, scale=services, env={})
    polls = int(minutes * 60 / step)
    every = max(1, int(600 / step))
    seen: list[float] = []
    started = time.perf_counter()

    def report(i: int, runs: int) -> None:
        seen.append(rss_mb())
        if i % every == 0 or i == polls - 1:
            print(
                f"soak: {i * step / 60:5.1f} simulated min: RSS {seen[-1]:.0f} MB "
                f"(peak {peak_mb():.0f}), {runs:,} runs, {time.perf_counter() - started:.0f} s",
                flush=True,
            )

    if not app:
        from cockpit import heap
        from cockpit.wiring import make_hub

        heap.return_large_blocks()  # as the headless controller does (the app does it itself)
        hub = make_hub(settings, clock=clock, live=False)
        await hub.start()
        try:
            for i in range(polls):
                await hub.refresh()
                clock.advance(step)
                report(i, len(hub.snapshot.runs))
        finally:
            await hub.stop()
        return seen

    from bench.fleet import _overview_drawn
    from cockpit.app import CockpitApp

    cockpit = CockpitApp(settings, clock=clock, poll=False)
    cockpit.animation_level = "none"
    async with cockpit.run_test(size=(160, 50)) as pilot:
        await _overview_drawn(cockpit)
        screen = cockpit.screen
        for i in range(polls):
            clock.advance(step)
            await cockpit.hub.refresh(name="demo")
            while screen.generation != cockpit.hub.snapshot.generation:  # type: ignore[attr-defined]  # noqa: ASYNC110
                await asyncio.sleep(0)  # let the app's message loop apply the snapshot
            await pilot.pause()
            report(i, len(cockpit.hub.snapshot.runs))
    return seen


def main(argv: list[str] | None = None) -> int:
    from bench.judge import positive

    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("services", nargs="?", type=positive, default=10_000)
    parser.add_argument("--minutes", type=positive, default=100, help="simulated (default 100)")
    parser.add_argument("--step", type=positive, default=2, help="simulated seconds a poll")
    parser.add_argument("--app", action="store_true", help="the cockpit around the hub")
    args = parser.parse_args(argv)
    seen = asyncio.run(soak(args.services, args.minutes, args.step, args.app))
    level = max(seen[len(seen) * 3 // 4 :])
    what = "the app" if args.app else "the hub alone"
    verdict = "OK" if level <= AIM_MB else "OVER"
    print(
        f"soak: {args.services:,} services, {what}: levelled at {level:.0f} MB over the last "
        f"quarter of {args.minutes} simulated minutes (target <= {AIM_MB:.0f}) {verdict}"
    )
    return 0 if level <= AIM_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
