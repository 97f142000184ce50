"""The on-demand detail of a Deployment (ReplicaSets, pods, events) and following a pod's log,
from the fake API server's recorded core/v1 Pod and Event payloads."""

from __future__ import annotations

import asyncio

from cockpit.fleet.detail import EVENTS_SHOWN, LogTail
from connectors.kubernetes import KubernetesConnector
from connectors.rollouts import ArgoRolloutsConnector
from tests.fixtures.kubernetes.kit import cluster, connected


async def test_the_detail_lists_revisions_pods_with_readiness_and_restarts_and_the_last_events() -> (
    None
):
    async with connected(KubernetesConnector, cluster()) as k8s:
        detail = await k8s.detail("web", "prod")
    assert detail is not None and (detail.kind, detail.namespace, detail.name) == (
        "Deployment",
        "shop",
        "web",
    )
    assert [(r.revision, r.ready, r.desired, r.current) for r in detail.revisions] == [
        (9, 4, 4, True),
        (8, 0, 0, False),
        (7, 0, 0, False),
    ]
    pods = {p.name: p for p in detail.pods}
    assert set(pods) == {
        "web-7d9c6b5f4-x2k9p",
        "web-7d9c6b5f4-h7q4m",
        "web-7d9c6b5f4-c8w2n",
        "web-7d9c6b5f4-t5r1z",
    }  # checkout's pod has another owner
    crashing = pods["web-7d9c6b5f4-c8w2n"]
    assert (crashing.ready, crashing.status, crashing.restarts, crashing.revision) == (
        "1/2",
        "CrashLoopBackOff",
        7,
        9,
    )
    assert pods["web-7d9c6b5f4-x2k9p"].ready == "2/2" and crashing.containers == (
        "web",
        "istio-proxy",
    )
    assert len(detail.events) == EVENTS_SHOWN
    newest = detail.events[-1]  # series.lastObservedTime counts, not the first timestamp
    assert (newest.reason, newest.type, newest.count) == ("BackOff", "Warning", 42)
    assert all("not about web" not in e.message for e in detail.events)


async def test_a_cell_without_a_workload_has_no_detail() -> None:
    async with connected(KubernetesConnector, cluster()) as k8s:
        assert await k8s.detail("nope", "prod") is None


async def test_a_rollout_has_a_detail_too() -> None:
    async with connected(ArgoRolloutsConnector, cluster()) as rollouts:
        detail = await rollouts.detail("payments", "prod")
    assert detail is not None and detail.kind == "Rollout" and detail.revisions


async def test_following_a_log_gives_the_tail_then_new_lines() -> None:
    fake = cluster()
    for n in range(5):
        fake.write_log("shop", "web-7d9c6b5f4-c8w2n", f"old {n}")
    async with connected(KubernetesConnector, fake) as k8s:
        detail = await k8s.detail("web", "prod")
        assert detail is not None
        lines = k8s.logs(detail.target("web-7d9c6b5f4-c8w2n"), tail=2)
        got = [await anext(lines), await anext(lines)]
        fake.write_log("shop", "web-7d9c6b5f4-c8w2n", "panic: \x1b[31mboom")
        got.append(await anext(lines))
        await lines.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0)
    assert got == ["old 3", "old 4", "panic: \x1b[31mboom"]
    tail = LogTail(keep=2, cap=10)
    assert [tail.add(line) for line in got] == ["old 3", "old 4", "panic: ^[…"]
    assert list(tail.lines) == ["old 4", "panic: ^[…"]
