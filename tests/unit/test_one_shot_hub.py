"""A one-shot refresh (`cockpit status`, the action commands) polls plainly and opens no live stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.fleet.hub import Hub
from tests.connectors import test_kubernetes_e2e as kube
from tests.fixtures.argocd import fake as argocd
from tests.fixtures.argocd.fake import FakeArgoCD
from tests.fixtures.kubernetes.kit import cluster


def live_tasks() -> list[str]:
    """Names of the running tasks that follow a stream or a watch."""
    names = [t.get_name() for t in asyncio.all_tasks() if not t.done()]
    return [n for n in names if n.startswith(("argocd-stream:", "watch:"))]


def _argocd() -> tuple[list[ConnectorSpec], Callable[[ConnectorSpec], httpx.AsyncClient]]:
    fake = FakeArgoCD()
    return [argocd.spec()], lambda s: httpx.AsyncClient(transport=fake.transport())


def _kubernetes() -> tuple[list[ConnectorSpec], Callable[[ConnectorSpec], httpx.AsyncClient]]:
    fake = cluster()
    return kube.specs(), lambda s: httpx.AsyncClient(transport=fake.transport())


@pytest.mark.parametrize("live", [False, True])
@pytest.mark.parametrize("source", [_argocd, _kubernetes], ids=["argocd", "kubernetes"])
async def test_a_one_shot_refresh_opens_no_stream_or_watch(source, live: bool) -> None:  # type: ignore[no-untyped-def]
    specs, client = source()
    hub = Hub(
        specs, argocd.ENVIRONMENTS, clock=FixedClock(argocd.NOW), client_factory=client, live=live
    )
    try:
        snap = await hub.refresh()
        assert all(s.ok for s in snap.sources.values()), snap.sources
        assert snap.services  # the plain poll still brought the facts
        assert bool(live_tasks()) is live
    finally:
        await hub.stop()
