"""HTTP concerns every connector shares, written once: errors, ETags, rate limits, pages.

`Api` wraps the connector's injected `httpx.AsyncClient`:
- maps failures onto `cockpit.errors` through `cockpit.connect.http_errors` (401 Unauthorized;
  403/429 with rate-limit signs RateLimited with retry-after; other 4xx Rejected; 5xx,
  timeouts and network errors Unreachable; malformed JSON Unreachable), with messages
  that never carry secrets;
- sends `If-None-Match` for GETs it has seen before and serves the cached body on 304
  (GitHub does not count a 304 against the rate limit), from a bounded LRU cache
  (`cockpit.connect.http_cache`);
- tracks rate-limit headers and slows down before exhaustion (`throttle()`);
- follows `Link: <...>; rel="next"` pagination and same-origin redirects, and refuses a
  link or redirect to another scheme, host or port (the token is for its origin only;
  the origin rule and the body cap live in `cockpit.connect.http_safety`); only
  `download()` (bytes: CI artifacts, release assets; `cockpit.connect.http_download`)
  follows a redirect to another host, and sends it none of the auth headers;
- bounds concurrency so polling many repositories is parallel but polite.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from cockpit.connect.http_cache import Cached, EtagCache
from cockpit.connect.http_download import Downloaded, download
from cockpit.connect.http_errors import body_message, http_error, retry_after, transport_failure
from cockpit.connect.http_safety import MAX_REDIRECTS, UNCAPPED, ResponseTooLarge, origin
from cockpit.errors import Unreachable

_LINK_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')
_KEPT = ("link", "etag", "x-total", "x-next-page")  # the headers a Response keeps


def parse_link(header: str | None) -> dict[str, str]:
    """RFC 8288 Link header -> {rel: url}."""
    if not header:
        return {}
    return {rel: url for url, rel in _LINK_RE.findall(header)}


@dataclass
class RateLimit:
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # epoch seconds

    def update(self, headers: Mapping[str, str]) -> None:
        for prefix in ("x-ratelimit-", "ratelimit-"):
            if headers.get(prefix + "remaining") is not None:
                try:
                    self.remaining = int(headers[prefix + "remaining"])
                    if headers.get(prefix + "limit"):
                        self.limit = int(headers[prefix + "limit"])
                    reset = headers.get(prefix + "reset")
                    if reset:
                        value = float(reset)
                        self.reset_at = value if value > 1e9 else time.time() + value
                except ValueError:
                    pass
                return

    def low(self, reserve: float = 0.05) -> bool:
        """Fewer than `reserve` of the budget left: time to slow down."""
        if self.remaining is None or not self.limit:
            return False
        return self.remaining <= max(1, int(self.limit * reserve))


@dataclass
class ApiStats:
    requests: int = 0
    not_modified: int = 0
    errors: int = 0


@dataclass
class Response:
    """What `Api.get` returns: the decoded body and the headers that matter."""

    status: int
    body: Any
    headers: Mapping[str, str]
    from_cache: bool = False
    links: dict[str, str] = field(default_factory=dict)


def redirect_method(method: str, status: int) -> str:
    """The method a redirect asks for (RFC 9110 15.4): a 303 turns anything but HEAD into
    GET, and so do 301 and 302 for a POST, as every client does."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET"
    return method


class Api:
    """A connector's view of one HTTP API (one base URL, one set of auth headers)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        name: str = "api",
        concurrency: int = 16,
        secrets: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
        cache: EtagCache | None = None,
        loads: Callable[[bytes], Any] = json.loads,
    ) -> None:
        self.client = client
        self.loads = loads  # a body's JSON parser (ValueError when malformed); httpx's is json
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.name = name
        self.rate = RateLimit()
        self.stats = ApiStats()
        self.cache = cache if cache is not None else EtagCache()
        self._sem = asyncio.Semaphore(concurrency)
        self._secrets = tuple(s for s in secrets if s)
        self._clock = clock
        self.origin = origin(httpx.URL(self.base_url))

    def slot(self) -> asyncio.Semaphore:
        """Held for each request: the bound on this API's concurrent requests."""
        return self._sem

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def check_origin(self, method: str, url: str, how: str) -> None:
        """The auth headers go to the configured origin only: refuse anything else by name."""
        there = origin(httpx.URL(url))
        if there != self.origin:
            raise Unreachable(
                self.redact(
                    f"{self.name}: {method} {self.shown_path(url)}: {how} {there} refused; "
                    f"credentials are only sent to {self.origin}"
                )
            )

    async def _send(
        self, method: str, url: str, *, stream: bool = False, **kw: Any
    ) -> httpx.Response:
        """Send, following same-origin redirects itself; a cross-origin one raises. The URL
        is parsed once for the origin check and the request (httpx would parse it twice)."""
        target = self._target(url, kw)
        self._check(method, target, "a link to")
        for _ in range(MAX_REDIRECTS + 1):
            request = self.client.build_request(method, target, **kw)
            if stream:
                request.extensions[UNCAPPED] = True
            resp = await self.client.send(request, stream=stream, follow_redirects=False)
            if not httpx.codes.is_redirect(resp.status_code):
                return resp
            location = resp.headers.get("location")
            if not location:
                return resp
            await resp.aclose()
            url = str(resp.url.join(location))
            target = httpx.URL(url)
            self._check(method, target, "a redirect to")
            kw.pop("params", None)  # the Location carries its own query
            if redirect_method(method, resp.status_code) != method:
                method = "GET"  # "see other": fetch the result, never repeat the action
                for body in ("json", "data", "content", "files"):
                    kw.pop(body, None)
        raise Unreachable(f"{self.name}: {method} {self.shown_path(url)}: too many redirects")

    def _target(self, url: str, kw: dict[str, Any]) -> httpx.URL:
        """`url` parsed, with `kw`'s params as its query (taken out of `kw`) when the
        client adds no params of its own: what httpx would build from both."""
        params = kw.get("params")
        if params and not self.client.params:
            del kw["params"]
            return httpx.URL(url, params=params)
        return httpx.URL(url)

    def _check(self, method: str, target: httpx.URL, how: str) -> None:
        if origin(target) != self.origin:
            self.check_origin(method, str(target), how)  # raises, naming where

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        conditional: bool = True,
        expect_json: bool = True,
        accept: Collection[int] = (),
        loads: Callable[[bytes], Any] | None = None,
    ) -> Response:
        """One request; a failure raises, except statuses in `accept`, which the caller handles.
        `loads` parses the body instead of the Api's own (a 304 hands back what it made)."""
        url = self.url(path)
        hdrs = {**self.headers, **(headers or {})}
        cache_key = url + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        cached = self.cache.get(cache_key) if method == "GET" and conditional else None
        if cached is not None:
            hdrs["If-None-Match"] = cached.etag
        async with self._sem:
            if self.rate.low() and self.rate.reset_at:
                # Slow down before exhaustion: spread what is left until the reset.
                left = max(self.rate.reset_at - self._clock(), 0.0)
                await asyncio.sleep(min(left / max(self.rate.remaining or 1, 1), 5.0))
            try:
                self.stats.requests += 1
                resp = await self._send(
                    method, url, params=params, json=json_body, data=data, headers=hdrs
                )
            except ResponseTooLarge as exc:
                self.stats.errors += 1
                raise Unreachable(self.too_large(method, url, exc)) from None
            except httpx.TimeoutException:
                self.stats.errors += 1
                raise Unreachable(
                    f"{self.name}: {method} {self.shown_path(url)} timed out"
                ) from None
            except (httpx.HTTPError, ssl.SSLError) as exc:  # anyio lets a TLS alert out raw
                self.stats.errors += 1
                raise Unreachable(
                    f"{self.name}: {method} {self.shown_path(url)} failed: {transport_failure(exc)}"
                ) from None
        # Lower-case names, repeats joined by ", " as httpx's get() answers; decoded once
        # (each get() on httpx.Headers decodes every header).
        head = dict(resp.headers.items())
        self.rate.update(head)
        if resp.status_code == 304 and cached is not None:
            self.stats.not_modified += 1
            return Response(
                304,
                cached.body,
                cached.headers,
                from_cache=True,
                links=parse_link(cached.headers.get("link")),
            )
        if resp.status_code >= 400 and resp.status_code not in accept:
            self.stats.errors += 1
            raise self.failure(method, url, resp)
        body: Any = None
        if expect_json and resp.content:
            try:
                body = (loads or self.loads)(resp.content)
            except ValueError:  # json.JSONDecodeError and UnicodeDecodeError among them
                raise self.malformed(method, url, len(resp.content)) from None
        elif not expect_json:
            body = resp.text
        kept = {k: head[k] for k in _KEPT if k in head}
        etag = head.get("etag")
        if method == "GET" and conditional and etag:
            self.cache.put(cache_key, Cached(etag, body, kept, len(resp.content)))
        return Response(resp.status_code, body, kept, links=parse_link(head.get("link")))

    @asynccontextmanager
    async def stream(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idle_timeout: float | None = None,
        accept: Collection[int] = (),
    ) -> AsyncIterator[httpx.Response]:
        """A streamed GET (watch streams, server-sent events), failures mapped as request() does.

        `idle_timeout` is how long the stream may stay silent (default: the client's read
        timeout). Network errors and timeouts while the body is read map onto Unreachable.
        """
        url = self.url(path)
        hdrs = {**self.headers, **(headers or {})}
        kw: dict[str, Any] = {}
        if idle_timeout is not None:
            t = self.client.timeout
            kw["timeout"] = httpx.Timeout(
                connect=t.connect, read=idle_timeout, write=t.write, pool=t.pool
            )
        self.stats.requests += 1
        try:
            resp = await self._send("GET", url, stream=True, params=params, headers=hdrs, **kw)
            async with contextlib.aclosing(resp):
                self.rate.update(resp.headers)
                if resp.status_code >= 400 and resp.status_code not in accept:
                    self.stats.errors += 1
                    await resp.aread()
                    raise self.failure("GET", url, resp)
                yield resp
        except httpx.TimeoutException:
            self.stats.errors += 1
            raise Unreachable(f"{self.name}: GET {self.shown_path(url)} timed out") from None
        except (httpx.HTTPError, ssl.SSLError) as exc:  # anyio lets a TLS alert out raw
            self.stats.errors += 1
            raise Unreachable(
                f"{self.name}: GET {self.shown_path(url)} failed: {transport_failure(exc)}"
            ) from None

    async def download(
        self,
        path: str,
        *,
        limit: int,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (),
    ) -> Downloaded:
        """A GET read as bytes, at most `limit` of them; redirects to another host are
        followed without the auth headers (`cockpit.connect.http_download`)."""
        return await download(self, path, limit=limit, headers=headers, accept=accept)

    async def get(self, path: str, **kw: Any) -> Any:
        return (await self.request("GET", path, **kw)).body

    async def pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        limit: int = 10,
        loads: Callable[[bytes], Any] | None = None,
    ) -> AsyncIterator[Response]:
        """Each page of a Link-paginated collection, at most `limit` pages.

        Without a `rel="next"` link, a non-empty `x-next-page` header (GitLab, where a
        proxy dropped the Link header) asks for the same path with `page` set to it.
        """
        url: str | None = path
        query = params
        for _ in range(limit):
            if url is None:
                return
            resp = await self.request("GET", url, params=query, loads=loads)
            yield resp
            url, query = resp.links.get("next"), None
            next_page = resp.headers.get("x-next-page", "").strip()
            if url is None and next_page:
                url, query = path, {**(params or {}), "page": next_page}

    async def collect(
        self,
        path: str,
        *,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
        limit: int = 10,
    ) -> list[Any]:
        """Every item of a paginated collection; `key` picks the list out of an envelope."""
        items: list[Any] = []
        async for page in self.pages(path, params=params, limit=limit):
            body = page.body
            chunk = body.get(key, []) if key and isinstance(body, dict) else body
            if not isinstance(chunk, list):
                raise Unreachable(f"{self.name}: {path} did not return a list")
            items.extend(chunk)
        return items

    def malformed(self, method: str, url: str, size: int) -> Unreachable:
        """The error of a body that is not JSON (also raised by a lazily parsed one's reader)."""
        return Unreachable(
            f"{self.name}: {method} {self.shown_path(url)} returned malformed JSON ({size} bytes)"
        )

    def too_large(self, method: str, url: str, exc: ResponseTooLarge) -> str:
        """Why a body past the connector's cap was refused, and what to change."""
        return (
            f"{self.name}: {method} {self.shown_path(url)}: {exc}, refused "
            f"(raise the connector's max_response_bytes if this is expected)"
        )

    def shown_path(self, url: str) -> str:
        """The URL's path as errors name it: no host, no query, no secret."""
        return self.redact(httpx.URL(url).path)

    def failure(self, method: str, url: str, resp: httpx.Response) -> Exception:
        """The `cockpit.errors` exception a failed response maps onto (http_errors)."""
        where = f"{self.name}: {method} {self.shown_path(url)} -> {resp.status_code}"
        wait = retry_after(resp.headers, self._clock())
        return http_error(where, resp, body_message(resp, self.redact), wait)
