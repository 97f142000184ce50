"""Argo CD at scale: 2,000 applications watched through the stream, a burst of 1,000 events.

    .venv/bin/python -m bench.argocd [--apps 2000] [--events 1000] [--all-at-once]

The fake Argo CD of the connector's tests serves the list, managed resources, projects
and the SSE stream over an httpx MockTransport. The real app (CockpitApp, headless) polls
through the real hub. After the initial list and the stream's resync, 1,000 MODIFIED
events arrive (in chunks of 20, so polls interleave with the burst, or all at once);
each changes an application's image tag and resourceVersion, and a tenth are OutOfSync
with drift to fetch. Figures: time from the last event until the hub's snapshot shows it
and until the Overview has drawn it (target <= 2 s), the median time of a screen update
`screen.show(snapshot)` (target <= 50 ms), and peak RSS (target <= 300 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.connectors.test_argocd_fake import TOKEN, FakeArgoCD

from connectors.argocd import ArgoCDConnector

ENVIRONMENTS = ("dev", "staging", "prod")
CONFIG = """\
environments: [dev, staging, prod]
connectors:
  - name: argocd
    type: argocd
    interval: 30s
    timeout: 20s
    options:
      url: https://argocd.example.com
      token: env:ARGOCD_TOKEN
"""


def application(i: int, template: dict[str, Any]) -> dict[str, Any]:
    """The i-th application: svc-NNNN in one of three environments; every tenth drifts."""
    env = ENVIRONMENTS[i % 3]
    service = f"svc-{i // 3:04d}"
    app = copy.deepcopy(template)
    app["metadata"].update(name=f"{service}-{env}", resourceVersion=str(9_000_000 + i))
    app["metadata"]["labels"] = {"environment": env}
    app["spec"]["destination"]["namespace"] = service
    app["status"]["sync"]["status"] = "OutOfSync" if i % 10 == 0 else "Synced"
    app["status"]["summary"]["images"] = [f"registry.example.com/acme/{service}:1.0.{i % 50}"]
    return app


def fleet(count: int) -> FakeArgoCD:
    base = FakeArgoCD()
    template = base.apps["shop-prod"]
    apps = {a["metadata"]["name"]: a for a in (application(i, template) for i in range(count))}
    drift = base.managed["shop-prod"]
    managed = {
        name: drift for name, a in apps.items() if a["status"]["sync"]["status"] == "OutOfSync"
    }
    return FakeArgoCD(apps=apps, managed=managed, projects=base.projects)


async def run(count: int, events: int, all_at_once: bool) -> None:
    from cockpit import config
    from cockpit.app import CockpitApp
    from cockpit.fleet.snapshot import FleetSnapshot

    folder = Path(tempfile.mkdtemp(prefix="cockpit-bench-argocd-"))
    os.environ["XDG_DATA_HOME"] = str(folder)
    os.environ["XDG_CONFIG_HOME"] = str(folder)
    (folder / "cockpit.yaml").write_text(CONFIG)
    settings = config.load(str(folder / "cockpit.yaml"), env={"ARGOCD_TOKEN": TOKEN})
    fake = fleet(count)
    transport = fake.transport()
    app = CockpitApp(settings, client_factory=lambda spec: httpx.AsyncClient(transport=transport))
    app.animation_level = "none"

    names = sorted(fake.apps)[:events]
    last_name, last_version = names[-1], "2.0.0-burst"
    last_key = (f"svc-{sorted(fake.apps).index(last_name) // 3:04d}", last_name.rsplit("-", 1)[1])
    hub_seen = asyncio.Event()
    hub_at: list[float] = []
    shows: list[float] = []
    shown_at: list[float] = []

    def reflects(snapshot: FleetSnapshot) -> bool:
        dep = snapshot.cell(*last_key).deployment
        return dep is not None and dep.version == last_version

    def on_snapshot(snapshot: FleetSnapshot) -> None:
        if not hub_seen.is_set() and reflects(snapshot):
            hub_at.append(time.perf_counter())
            hub_seen.set()

    started = time.perf_counter()
    async with app.run_test(headless=True, size=(160, 50)) as pilot:
        await fake.next_stream()
        connector = app.hub.connector("argocd")
        assert isinstance(connector, ArgoCDConnector) and connector.apps.stream is not None
        while connector.apps.lists < 2 or not app.hub.snapshot.services:  # the resync after connect
            await pilot.pause(0.05)
        ready = time.perf_counter() - started
        await pilot.pause(0.2)
        services = len(app.hub.snapshot.services)
        print(
            f"argocd: {count} applications ({services} services x 3 environments) listed, "
            f"streamed and shown in {ready:.2f} s"
        )
        screen = app.screen
        show = screen.show  # type: ignore[attr-defined]

        def timed(snapshot: FleetSnapshot, force: bool = False) -> None:
            t0 = time.perf_counter()
            show(snapshot, force)
            t1 = time.perf_counter()
            shows.append(t1 - t0)
            if not shown_at and reflects(snapshot):
                shown_at.append(t1)

        screen.show = timed  # type: ignore[attr-defined]
        app.hub.subscribe(on_snapshot)
        lists_before, polls_before = connector.apps.lists, app.hub.snapshot.generation

        for n, name in enumerate(names, 1):
            changed = copy.deepcopy(fake.apps[name])
            changed["metadata"]["resourceVersion"] = str(
                int(changed["metadata"]["resourceVersion"]) + 5_000_000
            )
            version = last_version if name == last_name else f"1.1.{n % 50}"
            changed["status"]["summary"]["images"] = [f"registry.example.com/acme/x:{version}"]
            changed["status"]["health"] = {"status": "Progressing" if n % 7 else "Degraded"}
            fake.change("MODIFIED", changed)
            if not all_at_once and n % 20 == 0:
                await asyncio.sleep(0.005)  # the burst arrives in chunks, as over a socket
        last_event = time.perf_counter()
        await asyncio.wait_for(hub_seen.wait(), 30)
        while not shown_at and time.perf_counter() - last_event < 30:
            await pilot.pause(0.01)
        await pilot.pause(0.5)

    hub_lag = hub_at[0] - last_event
    screen_lag = (shown_at[0] - last_event) if shown_at else float("inf")
    median = statistics.median(shows) * 1000 if shows else float("nan")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    polls = app.hub.snapshot.generation - polls_before
    mode = "all at once" if all_at_once else "in chunks of 20"
    print(
        f"argocd: burst of {events} MODIFIED events ({mode}); {polls} snapshots, "
        f"{connector.apps.lists - lists_before} full lists during it"
    )
    verdict = "OK" if max(hub_lag, screen_lag) <= 2 else "OVER"
    print(
        f"argocd: last event -> hub snapshot {hub_lag * 1000:.0f} ms, -> overview drawn "
        f"{screen_lag * 1000:.0f} ms (target <= 2000) {verdict}"
    )
    print(
        f"argocd: screen update median {median:.1f} ms, max {max(shows) * 1000:.1f} ms over "
        f"{len(shows)} updates (target <= 50) {'OK' if median <= 50 else 'OVER'}"
    )
    print(f"argocd: peak RSS {rss:.0f} MB (target <= 300) {'OK' if rss <= 300 else 'OVER'}")
    print(
        f"argocd: fake API served {len(fake.requests)} requests "
        f"({sum(1 for r in fake.requests if r.path.endswith('managed-resources'))} drift)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=2000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--all-at-once", action="store_true", help="no pauses inside the burst")
    args = parser.parse_args()
    asyncio.run(run(args.apps, args.events, args.all_at_once))


if __name__ == "__main__":
    main()
