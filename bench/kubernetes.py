"""Kubernetes at scale: 5,000 Deployments listed and watched, then a burst of 1,000 events.

    .venv/bin/python -m bench.kubernetes [--deployments 5000] [--events 1000]

The fake API server of the connector's tests runs in its own process on a loopback port
(so the figures are the cockpit's alone), serving 5,000 Deployments and their
ReplicaSets in three namespaces (one per environment). The real app (CockpitApp,
headless) polls through the real hub with a Kubernetes connector configured from a
kubeconfig. Once everything is listed and watched, the fake emits 1,000 MODIFIED events
at once (new image tags) down the watch streams. Figures: time from the fake writing the
last event until the hub's snapshot shows all of them, and until the Overview has drawn
them (target <= 2 s); the median time of a screen update `screen.show(snapshot)` (target
<= 50 ms); peak RSS of the cockpit process (target <= 300 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("dev", "staging", "prod")
DEPLOYMENTS = ("apis/apps/v1", "deployments")
REPLICASETS = ("apis/apps/v1", "replicasets")
TOKEN = "bench-token"


def objects(count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`count` Deployments (svc-NNNN in apps-<env>) and one current ReplicaSet each."""
    from tests.fixtures.kubernetes.fakeapi import fixture

    dep_t = fixture("kubernetes/deployments.json")["items"][0]
    rs_t = fixture("kubernetes/replicasets.json")["items"][2]
    deps, sets = [], []
    for i in range(count):
        env, service = ENVIRONMENTS[i % 3], f"svc-{i // 3:04d}"
        image = f"registry.example.com/acme/{service}:1.0.{i % 50}"
        dep = copy.deepcopy(dep_t)
        dep["metadata"].update(name=service, namespace=f"apps-{env}", uid=f"dep-{i}")
        dep["metadata"]["labels"]["app.kubernetes.io/name"] = service
        dep["spec"]["template"]["spec"]["containers"][0]["image"] = image
        rs = copy.deepcopy(rs_t)
        rs["metadata"].update(name=f"{service}-7d9c6b5f4", namespace=f"apps-{env}", uid=f"rs-{i}")
        rs["metadata"]["ownerReferences"][0].update(name=service, uid=f"dep-{i}")
        rs["spec"]["template"] = copy.deepcopy(dep["spec"]["template"])
        deps.append(dep)
        sets.append(rs)
    return deps, sets


def serve(count: int) -> None:
    """The fake's process: print the port, then serve (with /bench/ control endpoints)."""
    from tests.fixtures.kubernetes.fakeapi import FakeKubeAPI, Reply
    from tests.fixtures.kubernetes.loopback import LoopbackServer

    fake = FakeKubeAPI(TOKEN)
    deps, sets = objects(count)
    for obj in deps:
        fake.put(DEPLOYMENTS, obj, quiet=True)
    for obj in sets:
        fake.put(REPLICASETS, obj, quiet=True)
    handle = fake.handle

    async def control(
        method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Reply:
        if path == "/bench/burst":
            return Reply(200, json.dumps(burst(fake, int(query["events"]))).encode())
        if path == "/bench/last-write":
            return Reply(
                200, json.dumps({"at": server.last_write, "watches": len(fake.watches)}).encode()
            )
        return await handle(method, path, query, headers, body)

    fake.handle = control  # type: ignore[method-assign]
    with LoopbackServer(fake) as server:
        print(server.port, flush=True)
        sys.stdin.read()  # until the bench closes our stdin


def burst(fake: Any, events: int) -> dict[str, str]:
    """MODIFIED events for the first `events` Deployments: a new image tag each."""
    expected = {}
    everything = sorted(fake.store[DEPLOYMENTS].items())
    items = everything[:: max(1, len(everything) // events)][:events]  # every namespace
    for n, ((namespace, name), obj) in enumerate(items):
        changed = copy.deepcopy(obj)
        version = f"2.0.{n}"
        changed["spec"]["template"]["spec"]["containers"][0]["image"] = (
            f"registry.example.com/acme/{name}:{version}"
        )
        changed["metadata"]["generation"] += 1
        changed["status"]["observedGeneration"] = changed["metadata"]["generation"]
        fake.put(DEPLOYMENTS, changed)
        expected[f"{name}/{namespace.removeprefix('apps-')}"] = version
    return expected


def start_fake(count: int) -> tuple[subprocess.Popen[str], str]:
    """The fake API server in its own process, and its URL once it listens."""
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.kubernetes", "--serve", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None and fake.stdin is not None
    return fake, f"http://127.0.0.1:{fake.stdout.readline().strip()}"


async def run(count: int, events: int) -> None:
    import httpx

    from cockpit import config
    from cockpit.app import CockpitApp
    from cockpit.fleet.snapshot import FleetSnapshot

    folder = Path(tempfile.mkdtemp(prefix="cockpit-bench-k8s-"))
    os.environ["XDG_DATA_HOME"] = str(folder)
    os.environ["XDG_CONFIG_HOME"] = str(folder)
    fake, url = start_fake(count)
    (folder / "kubeconfig").write_text(
        json.dumps(
            {
                "current-context": "bench",
                "clusters": [{"name": "bench", "cluster": {"server": url}}],
                "users": [{"name": "bench", "user": {"token": TOKEN}}],
                "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}],
            }
        )
    )
    (folder / "cockpit.yaml").write_text(
        json.dumps(
            {
                "environments": list(ENVIRONMENTS),
                "connectors": [
                    {
                        "name": "k8s",
                        "type": "kubernetes",
                        "interval": "30s",
                        "timeout": "20s",
                        "options": {
                            "kubeconfig": str(folder / "kubeconfig"),
                            "namespaces": [f"apps-{e}" for e in ENVIRONMENTS],
                            "environment": {f"apps-{e}": e for e in ENVIRONMENTS},
                        },
                    }
                ],
            }
        )
    )
    settings = config.load(str(folder / "cockpit.yaml"), env={})
    app = CockpitApp(settings)
    app.animation_level = "none"
    shows: list[float] = []
    hub_at: list[float] = []
    shown_at: list[float] = []
    expected: dict[tuple[str, str], str] = {}

    def reflects(snapshot: FleetSnapshot) -> bool:
        cells = snapshot.cells
        return bool(expected) and all(
            (c := cells.get(key)) is not None
            and c.deployment is not None
            and c.deployment.version == v
            for key, v in expected.items()
        )

    def on_snapshot(snapshot: FleetSnapshot) -> None:
        if not hub_at and reflects(snapshot):
            hub_at.append(time.monotonic())

    try:
        async with httpx.AsyncClient(base_url=url) as control:
            started = time.monotonic()
            async with app.run_test(headless=True, size=(160, 50)) as pilot:
                while (
                    len(app.hub.snapshot.services) < count // 3
                    or (await control.get("/bench/last-write")).json()["watches"] < 6
                ):
                    await pilot.pause(0.05)
                ready = time.monotonic() - started
                print(
                    f"kubernetes: {count} Deployments (+{count} ReplicaSets) in 3 namespaces "
                    f"listed, watched and shown in {ready:.2f} s"
                )
                await pilot.pause(0.3)
                screen = app.screen
                show = screen.show  # type: ignore[attr-defined]

                def timed(snapshot: FleetSnapshot, force: bool = False) -> None:
                    t0 = time.perf_counter()
                    show(snapshot, force)
                    shows.append(time.perf_counter() - t0)
                    if not shown_at and reflects(snapshot):
                        shown_at.append(time.monotonic())

                screen.show = timed  # type: ignore[attr-defined]
                app.hub.subscribe(on_snapshot)
                generation = app.hub.snapshot.generation
                sent = (await control.post("/bench/burst", params={"events": events})).json()
                for key, version in sent.items():
                    service, environment = key.split("/")
                    expected[(service, environment)] = version
                deadline = time.monotonic() + 30
                while not (hub_at and shown_at) and time.monotonic() < deadline:
                    await pilot.pause(0.01)
                last_write = (await control.get("/bench/last-write")).json()["at"]
                polls = app.hub.snapshot.generation - generation
                await pilot.pause(0.2)
    finally:
        if fake.stdin is not None:
            fake.stdin.close()
        fake.wait(10)

    hub_lag = (hub_at[0] - last_write) if hub_at else float("inf")
    screen_lag = (shown_at[0] - last_write) if shown_at else float("inf")
    median = statistics.median(shows) * 1000 if shows else float("nan")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"kubernetes: burst of {events} MODIFIED watch events; {polls} snapshots during it")
    verdict = "OK" if max(hub_lag, screen_lag) <= 2 else "OVER"
    print(
        f"kubernetes: last event -> hub snapshot {hub_lag * 1000:.0f} ms, -> overview drawn "
        f"{screen_lag * 1000:.0f} ms (target <= 2000) {verdict}"
    )
    print(
        f"kubernetes: screen update median {median:.1f} ms, max "
        f"{max(shows, default=0) * 1000:.1f} ms over {len(shows)} updates (target <= 50) "
        f"{'OK' if median <= 50 else 'OVER'}"
    )
    print(f"kubernetes: peak RSS {rss:.0f} MB (target <= 300) {'OK' if rss <= 300 else 'OVER'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=5000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--serve", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    asyncio.run(run(args.deployments, args.events))


if __name__ == "__main__":
    main()
