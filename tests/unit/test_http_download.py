"""Api.download: bytes of a CI artifact or release asset, capped, the token kept at its origin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from cockpit.connect.http import Api
from cockpit.errors import Rejected, Unreachable

TOKEN = "s3cret-token"
ORIGIN = "https://api.example.com"

Route = Callable[[httpx.Request], httpx.Response]


def api_on(routes: dict[str, Route], seen: list[httpx.Request]) -> Api:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        route = routes.get(f"{request.url.scheme}://{request.url.host}{request.url.path}")
        return route(request) if route else httpx.Response(404, json={"message": "Not Found"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return Api(client, ORIGIN, headers={"Authorization": f"Bearer {TOKEN}"}, secrets=(TOKEN,))


def to(url: str, status: int = 302) -> Route:
    return lambda r: httpx.Response(status, headers={"location": url})


async def test_a_same_origin_redirect_keeps_the_token_a_cross_origin_one_drops_it_for_good() -> (
    None
):
    seen: list[httpx.Request] = []
    routes = {
        f"{ORIGIN}/a": to("/b"),
        f"{ORIGIN}/b": to("https://blob.example.net/x?sig=1"),
        "https://blob.example.net/x": to(f"{ORIGIN}/c"),  # back home: still no token
        f"{ORIGIN}/c": lambda r: httpx.Response(200, content=b"\x00zip"),
    }
    api = api_on(routes, seen)
    got = await api.download("/a", limit=1024, headers={"Accept": "application/octet-stream"})
    assert (got.status, got.content) == (200, b"\x00zip")
    auth = [(r.url.host, r.url.path, "authorization" in r.headers) for r in seen]
    assert auth == [
        ("api.example.com", "/a", True),
        ("api.example.com", "/b", True),
        ("blob.example.net", "/x", False),
        ("api.example.com", "/c", False),
    ]
    assert all(r.headers["accept"] == "application/octet-stream" for r in seen)


async def test_a_redirect_loop_ends() -> None:
    api = api_on({f"{ORIGIN}/a": to("/a")}, [])
    with pytest.raises(Unreachable, match="too many redirects"):
        await api.download("/a", limit=1024)


async def test_an_accepted_status_is_returned_others_raise_without_the_token() -> None:
    seen: list[httpx.Request] = []
    routes = {f"{ORIGIN}/boom": lambda r: httpx.Response(500, json={"message": f"x {TOKEN}"})}
    api = api_on(routes, seen)
    assert (await api.download("/missing", limit=1024, accept=(404,))).status == 404
    with pytest.raises(Rejected):
        await api.download("/missing", limit=1024)
    with pytest.raises(Unreachable) as err:
        await api.download("/boom", limit=1024)
    assert TOKEN not in str(err.value) and "***" in str(err.value)


@pytest.mark.parametrize("declared", [True, False])
async def test_a_body_over_the_limit_is_refused(declared: bool) -> None:
    body = b"z" * 4096

    async def chunks() -> AsyncIterator[bytes]:
        yield body[:2048]
        yield body[2048:]

    def big(r: httpx.Request) -> httpx.Response:
        if declared:
            return httpx.Response(200, content=body)  # sends Content-Length
        return httpx.Response(200, content=chunks())  # chunked: no length up front

    api = api_on({f"{ORIGIN}/big": big}, [])
    with pytest.raises(Unreachable, match="larger than 1 KiB"):
        await api.download("/big", limit=1024)


async def test_the_first_link_must_be_on_the_origin() -> None:
    seen: list[httpx.Request] = []
    api = api_on({}, seen)
    with pytest.raises(Unreachable, match="credentials are only sent to"):
        await api.download("https://elsewhere.example/x", limit=1024)
    assert seen == []
