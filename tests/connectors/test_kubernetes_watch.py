"""List-then-watch against the fake API server: events, bookmarks, 410 re-lists, drops, 401."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connect import options as opt
from cockpit.errors import ConnectorError, Unauthorized, Unreachable
from cockpit.fleet.hub import Hub
from cockpit.model import Environment, Health
from connectors.kube.client import DEPLOYMENTS as DEPLOYMENTS_RESOURCE
from connectors.kubernetes import KubernetesConnector, KubernetesOptions
from tests.fixtures.kubernetes.fakeapi import FakeKubeAPI, Seen
from tests.fixtures.kubernetes.kit import (
    DEPLOYMENTS,
    ENV,
    NOW,
    OPTIONS,
    cluster,
    connected,
    eventually,
)

PATH = "/apis/apps/v1/namespaces/shop/deployments"


def requests(fake: FakeKubeAPI, *, watch: bool) -> list[dict[str, str]]:
    return [
        s.query for s in fake.seen if s.path == PATH and (s.query.get("watch") == "true") == watch
    ]


def cached_image(k: KubernetesConnector, name: str) -> str:
    """The image of a Deployment as the connector's watch cache holds it now."""
    obj = k.informers[DEPLOYMENTS_RESOURCE][0].items.get(f"shop/{name}") or {}
    containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}]
    return str(containers[0].get("image", ""))


async def versions(k: KubernetesConnector) -> dict[str, str]:
    return {d.service: d.version for d in await k.deployments()}


def web(fake: FakeKubeAPI, version: str) -> dict:
    obj = copy.deepcopy(fake.get(DEPLOYMENTS, "shop", "web"))
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = (
        f"registry.example.com/shop/web:{version}"
    )
    return obj


async def test_list_then_watch_from_the_lists_resource_version() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake, history=False) as k:
        await k.poll()
        lists = requests(fake, watch=False)
        assert lists == [{"limit": "500"}]
        await eventually(lambda: bool(requests(fake, watch=True)))
        assert requests(fake, watch=True)[0] == {
            "watch": "true",
            "resourceVersion": str(fake.rv),  # the list's metadata.resourceVersion
            "allowWatchBookmarks": "true",
            "timeoutSeconds": "60",  # bookmarks at least this often, or the mirror is stale
        }


async def test_added_modified_deleted_and_bookmark_events_update_the_cache() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake, history=False) as k:
        woken: list[int] = []
        k._on_change = lambda: woken.append(1)
        await k.poll()
        await eventually(lambda: len(fake.watches) == 1)
        woken.clear()

        fake.put(DEPLOYMENTS, web(fake, "2.5.0"))  # MODIFIED
        added = copy.deepcopy(fake.get(DEPLOYMENTS, "shop", "cart"))
        added["metadata"].update(name="cart-v2", uid="uid-cart-v2")
        fake.put(DEPLOYMENTS, added)  # ADDED
        fake.delete(DEPLOYMENTS, "shop", "search")  # DELETED
        await eventually(lambda: len(woken) == 3)
        deps = {d.remote_id: d for d in await k.deployments()}
        assert deps["shop/web"].version == "2.5.0"
        assert "shop/cart-v2" in deps and "shop/search" not in deps

        fake.bookmark()
        informer = k.informers[DEPLOYMENTS_RESOURCE][0]
        await eventually(lambda: informer.resource_version == str(fake.rv))
        assert len(woken) == 3, "a bookmark moves the resume point but changes nothing"


async def test_error_410_forces_a_clean_relist_then_a_new_watch() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake, history=False) as k:
        await k.poll()
        await eventually(lambda: len(fake.watches) == 1)
        # While nobody watches, search disappears and its deletion leaves history...
        fake.expire()  # ...the open watch gets ERROR 410 (Expired) and ends
        fake.store[DEPLOYMENTS].pop(("shop", "search"))
        await eventually(lambda: len(requests(fake, watch=False)) == 2)
        await eventually(lambda: len(requests(fake, watch=True)) == 2)
        assert requests(fake, watch=True)[1]["resourceVersion"] == str(fake.rv)
        assert "shop/search" not in {d.remote_id for d in await k.deployments()}


async def test_http_410_on_the_watch_request_relists_too() -> None:
    fake = cluster()
    fake.gone_on_watch = True
    async with connected(KubernetesConnector, fake, history=False) as k:
        await k.poll()
        await eventually(lambda: len(fake.watches) == 1)
        assert len(requests(fake, watch=False)) == 2


async def test_a_dropped_stream_resumes_from_the_last_resource_version() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake, history=False) as k:
        await k.poll()
        await eventually(lambda: len(fake.watches) == 1)
        fake.put(DEPLOYMENTS, web(fake, "2.5.0"))
        seen_rv = str(fake.rv)
        await eventually(lambda: k.informers[DEPLOYMENTS_RESOURCE][0].resource_version == seen_rv)
        fake.drop()
        fake.put(DEPLOYMENTS, web(fake, "2.5.1"))  # happens while disconnected
        await eventually(lambda: len(requests(fake, watch=True)) == 2)
        assert requests(fake, watch=True)[1]["resourceVersion"] == seen_rv
        assert len(requests(fake, watch=False)) == 1, "no re-list after a mere drop"
        await eventually(lambda: cached_image(k, "web").endswith(":2.5.1"))
        assert (await versions(k))["web"] == "2.5.1"


async def test_a_paged_list_follows_continue_and_restarts_when_it_expires() -> None:
    fake = cluster()
    fake.expire_continue = True
    async with connected(KubernetesConnector, fake, history=False) as k:
        await k.sync()
        informer = k.informers[DEPLOYMENTS_RESOURCE][0]
        informer.page_size = 2
        informer.lists = 0
        fake.seen.clear()
        await informer._list()
        pages = requests(fake, watch=False)
        assert pages[0] == {"limit": "2"} and pages[1] == {"limit": "2", "continue": "2"}
        assert pages[2] == {"limit": "2"}, "an expired continue token restarts the list"
        assert len(informer.items) == 5


async def test_a_rotated_token_is_reread_from_its_file_after_401(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("t0ken-1\n")
    fake = cluster()
    async with connected(
        KubernetesConnector, fake, history=False, token=None, token_file=str(token_file)
    ) as k:
        await k.poll()
        await eventually(lambda: len(fake.watches) == 1)
        # The old token expires; the kubelet has already written the new one.
        fake.tokens = {"t0ken-2"}
        token_file.write_text("t0ken-2\n")
        fake.drop()
        fake.put(DEPLOYMENTS, web(fake, "2.6.0"))
        await eventually(
            lambda: any(s.headers.get("authorization") == "Bearer t0ken-2" for s in fake.seen)
        )
        await eventually(lambda: cached_image(k, "web").endswith(":2.6.0"))
        assert (await versions(k))["web"] == "2.6.0"
        refused = [s for s in fake.seen if s.headers.get("authorization") == "Bearer t0ken-1"]
        assert refused, "the old token was tried first"


async def test_a_static_token_refused_is_unauthorized() -> None:
    fake = cluster(token="another-token")
    async with connected(KubernetesConnector, fake, history=False) as k:
        with pytest.raises(Unauthorized):
            await k.poll()


async def test_status_changes_arrive_through_the_watch() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake, history=False) as k:
        obs = await k.poll()
        assert {d.service: d.health for d in obs.deployments}["cart"] is Health.PROGRESSING
        cart = copy.deepcopy(fake.get(DEPLOYMENTS, "shop", "cart"))
        cart["status"]["observedGeneration"] = cart["metadata"]["generation"]
        fake.put(DEPLOYMENTS, cart)
        informer = k.informers[DEPLOYMENTS_RESOURCE][0]
        await eventually(lambda: informer.items["shop/cart"]["status"]["observedGeneration"] == 5)
        obs = await k.poll()
        assert {d.service: d.health for d in obs.deployments}["cart"] is Health.HEALTHY


async def test_star_watches_every_namespace_through_the_cluster_wide_path() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake, history=False, namespaces=["*"]) as k:
        deps = await k.deployments()
        await eventually(lambda: len(fake.watches) == 1)
    assert {d.remote_id for d in deps} >= {"shop/web", "shop/cart"}
    paths = {s.path for s in fake.seen}
    assert paths == {"/apis/apps/v1/deployments"}


async def test_a_watch_that_cannot_reconnect_fails_the_poll_and_recovers() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake, history=False) as k:
        await k.poll()
        await eventually(lambda: len(fake.watches) == 1)
        informer = k.informers[DEPLOYMENTS_RESOURCE][0]
        fake.fail_next = [503] * 100_000  # the API server is down until cleared
        fake.drop()
        await eventually(lambda: informer.failures >= 2)
        with pytest.raises(Unreachable, match="503"):
            await k.poll()
        fake.fail_next.clear()
        await eventually(lambda: len(fake.watches) == 1)
        fake.bookmark()  # an open stream is not yet a working one: its first bookmark is
        await eventually(lambda: informer.failures == 0)
        assert len((await k.poll()).deployments) == 5


async def test_a_malformed_watch_line_reconnects_from_the_last_good_resource_version() -> None:
    fake = cluster()
    async with connected(KubernetesConnector, fake, history=False) as k:
        await k.poll()
        await eventually(lambda: len(fake.watches) == 1)
        fake.put(DEPLOYMENTS, web(fake, "2.5.0"))
        good = str(fake.rv)
        fake.watches[0].queue.put_nowait(b'{"type": "MODIFIED", "object": {"metadata": \n')
        await eventually(lambda: len(requests(fake, watch=True)) == 2)
        informer = k.informers[DEPLOYMENTS_RESOURCE][0]
        assert requests(fake, watch=True)[1]["resourceVersion"] == good
        assert informer.watches == 2 and informer.error is None  # recovered at once
        assert len(requests(fake, watch=False)) == 1


def broken_watches(
    fake: FakeKubeAPI, body: Callable[[], AsyncIterator[bytes]]
) -> httpx.MockTransport:
    """The fake, except that every watch answers 200 with `body` (lists still work)."""
    inner = fake.transport()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("watch") == "true":
            fake.seen.append(Seen("GET", request.url.path, dict(request.url.params), {}, b""))
            return httpx.Response(200, content=body())
        return await inner.handle_async_request(request)

    return httpx.MockTransport(handler)


def watching(
    transport: httpx.MockTransport, clock: FixedClock, delays: list[int]
) -> KubernetesConnector:
    """A connector on `transport` that records each backoff it asks for (and waits none)."""
    options: Any = opt.parse(KubernetesOptions, {**OPTIONS, "history": False}, env=ENV)
    for secret in opt.secrets_of(options):
        secret.resolve(ENV)
    k = KubernetesConnector(
        "k8s", options, client=httpx.AsyncClient(transport=transport), clock=clock
    )
    k.retry_after = lambda failures: delays.append(failures) or 0.0
    return k


async def garbage() -> AsyncIterator[bytes]:
    yield b"<html><body>502 Bad Gateway</body></html>\n"


async def error_event() -> AsyncIterator[bytes]:
    status = {"kind": "Status", "status": "Failure", "message": "etcd leader changed", "code": 500}
    yield json.dumps({"type": "ERROR", "object": status}).encode() + b"\n"


@pytest.mark.parametrize("body", [garbage, error_event], ids=["garbage", "error-events"])
async def test_a_watch_that_keeps_failing_backs_off_and_fails_the_poll(
    body: Callable[[], AsyncIterator[bytes]],
) -> None:
    fake, delays = cluster(), []
    k = watching(broken_watches(fake, body), FixedClock(NOW), delays)
    try:
        await k.poll()
        await eventually(lambda: len(delays) >= 4)
        assert delays[:4] == [1, 2, 3, 4]  # each retry waits longer, never the first delay again
        with pytest.raises(ConnectorError, match=r"watch|malformed"):
            await k.poll()
    finally:
        await k.aclose()


async def silence() -> AsyncIterator[bytes]:
    await asyncio.Event().wait()  # accepted, and never a byte more
    yield b""


async def test_a_watch_that_never_answers_goes_stale_after_its_timeout() -> None:
    fake, clock = cluster(), FixedClock(NOW)
    k = watching(broken_watches(fake, silence), clock, [])
    try:
        await k.poll()
        await eventually(lambda: len(requests(fake, watch=True)) == 1)
        clock.advance(60)
        assert len((await k.poll()).deployments) == 5  # within the timeout: fine
        clock.advance(20)
        with pytest.raises(Unreachable, match="no event or bookmark for 80s"):
            await k.poll()
    finally:
        await k.aclose()


async def test_ctrl_r_ends_the_watch_backoff_and_retries_at_once() -> None:
    fake = cluster()
    spec = ConnectorSpec(
        "k8s",
        "kubernetes",
        KubernetesConnector,
        watching(fake.transport(), FixedClock(NOW), []).options,
        3600.0,
        10.0,
        7200.0,
    )
    hub = Hub(
        [spec],
        (Environment("prod", 0, True),),
        clock=FixedClock(NOW),
        client_factory=lambda s: httpx.AsyncClient(transport=fake.transport()),
    )
    await hub.start()
    try:
        await eventually(lambda: len(fake.watches) == 1)
        k: Any = hub.connector("k8s")
        informers = [i for infs in k.informers.values() for i in infs]
        for informer in informers:
            informer.retry_after = lambda failures: 3600.0  # an hour's backoff
        fake.drop()
        await eventually(lambda: all(i.failures for i in informers))  # both backing off
        before = len(requests(fake, watch=True))
        hub.poke()  # what ctrl+r does
        await eventually(lambda: len(requests(fake, watch=True)) > before)
    finally:
        await hub.stop()
