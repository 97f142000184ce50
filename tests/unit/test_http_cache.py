"""The conditional-request (ETag) cache stays within its bounds, and a hit still saves a body."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from cockpit.connect.http import Api
from cockpit.connect.http_cache import MAX_BYTES, MAX_ENTRIES, Cached, EtagCache

RUNS = (Path(__file__).resolve().parents[1] / "fixtures/github/acme-shop/runs.json").read_bytes()
BASE = "https://api.github.com"


class RunsServer:
    """Answers every repository's runs list with the recorded payload, an ETag and 304s."""

    def __init__(self) -> None:
        self.conditional: list[str] = []  # paths asked with If-None-Match

    def handle(self, request: httpx.Request) -> httpx.Response:
        etag = 'W/"' + hashlib.sha256(RUNS + request.url.path.encode()).hexdigest()[:40] + '"'
        if request.headers.get("if-none-match"):
            self.conditional.append(request.url.path)
            if request.headers["if-none-match"] == etag:
                return httpx.Response(304, headers={"etag": etag})
        return httpx.Response(200, content=RUNS, headers={"etag": etag})


def api(server: RunsServer, cache: EtagCache | None = None) -> Api:
    client = httpx.AsyncClient(transport=httpx.MockTransport(server.handle))
    return Api(client, BASE, name="github", cache=cache)


def runs(n: int) -> str:
    return f"/repos/acme/repo-{n}/actions/runs"


async def test_a_long_running_api_keeps_no_more_than_the_default_bound() -> None:
    github = api(RunsServer())
    for n in range(MAX_ENTRIES + 50):
        await github.get(runs(n))
    # A runs list is ~22 KB: here the bytes bound is the one that holds.
    assert len(github.cache) < MAX_ENTRIES + 50 and github.cache.bytes <= MAX_BYTES
    assert len(github.cache) <= MAX_ENTRIES


async def test_past_its_entries_the_least_recently_used_answer_goes_and_a_hit_still_works() -> None:
    server = RunsServer()
    github = api(server, EtagCache(max_entries=3))
    for n in (1, 2, 3):
        await github.get(runs(n))
    hit = await github.request("GET", runs(1))  # 1 becomes the most recent
    assert hit.status == 304 and hit.from_cache and hit.body["total_count"] > 0
    await github.get(runs(4))  # evicts 2, the least recently used
    assert len(github.cache) == 3
    server.conditional.clear()
    await github.get(runs(2))
    assert server.conditional == []  # 2 was gone: asked afresh
    await github.get(runs(4))
    assert server.conditional == [runs(4)] and github.stats.not_modified == 2


def test_the_bytes_bound_holds_and_an_answer_over_it_is_not_kept() -> None:
    cache = EtagCache(max_entries=100, max_bytes=1000)
    for n in range(10):
        cache.put(str(n), Cached(f'"{n}"', {}, {}, 300))
        assert cache.bytes <= 1000
    assert len(cache) == 3 and cache.get("9") is not None and cache.get("6") is None
    cache.put("huge", Cached('"h"', {}, {}, 1001))
    assert cache.get("huge") is None and len(cache) == 3


def test_a_new_answer_for_a_key_replaces_the_old_one_in_the_byte_count() -> None:
    cache = EtagCache(max_bytes=1000)
    cache.put("k", Cached('"1"', {}, {}, 600))
    cache.put("k", Cached('"2"', {}, {}, 700))
    assert cache.bytes == 700 and len(cache) == 1
