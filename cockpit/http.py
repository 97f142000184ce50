"""HTTP concerns every connector shares, written once: errors, ETags, rate limits, pages.

`Api` wraps the connector's injected `httpx.AsyncClient`:
- maps failures onto `cockpit.errors` (401 Unauthorized; 403/429 with rate-limit signs
  RateLimited with retry-after; other 4xx Rejected; 5xx, timeouts and network errors
  Unreachable; malformed JSON Unreachable), with messages that never carry secrets;
- sends `If-None-Match` for GETs it has seen before and serves the cached body on 304
  (GitHub does not count a 304 against the rate limit);
- tracks rate-limit headers and slows down before exhaustion (`throttle()`);
- follows `Link: <...>; rel="next"` pagination and same-origin redirects, and refuses a
  link or redirect to another scheme, host or port (the token is for its origin only);
- caps response bodies (`CappedTransport`, the common `max_response_bytes` option),
  reading them as they stream and stopping at the cap;
- bounds concurrency so polling many repositories is parallel but polite.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from cockpit.errors import RateLimited, Rejected, Unauthorized, Unreachable
from cockpit.sanitize import clean

_LINK_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')
MAX_REDIRECTS = 5
# A request with this extension set is a long-lived stream (watch, server-sent events):
# its total size grows for as long as it stays open, so the cap does not apply.
UNCAPPED = "cockpit.uncapped"


class ResponseTooLarge(httpx.TransportError):
    """A response body went past the connector's `max_response_bytes`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"response larger than {_size(limit)}")
        self.limit = limit


def _size(n: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


class _CappedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise ResponseTooLarge(self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class CappedTransport(httpx.AsyncBaseTransport):
    """Wraps a transport so no response body grows past `limit` bytes.

    A declared Content-Length over the cap is refused before any of the body is read;
    otherwise the body is counted as it arrives and the connection dropped at the cap,
    so a hostile or broken server cannot make the cockpit buffer gigabytes.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        self.inner = inner
        self.limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.extensions.get(UNCAPPED):
            return response
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            await response.aclose()
            raise ResponseTooLarge(self.limit)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _CappedStream(response.stream, self.limit)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def origin(url: httpx.URL) -> str:
    """scheme://host:port, with the scheme's default port spelled out."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return f"{url.scheme}://{url.host}:{port}"


def parse_link(header: str | None) -> dict[str, str]:
    """RFC 8288 Link header -> {rel: url}."""
    if not header:
        return {}
    return {rel: url for url, rel in _LINK_RE.findall(header)}


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (epoch)."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        reset = headers.get(name)
        left = headers.get(name.replace("reset", "remaining"), "0").strip()
        if left.isdigit() and int(left) > 0:
            # Budget left: the reset does not explain this refusal (GitHub's secondary
            # limits), so the caller picks its own wait.
            continue
        if reset and reset.strip().isdigit():
            seconds = float(reset)
            # GitHub sends an epoch; IETF drafts and GitLab's RateLimit-Reset may send delta.
            return max(0.0, seconds - now) if seconds > 1e9 else seconds
    return None


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
class Cached:
    etag: str
    body: Any
    headers: dict[str, str]


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
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.name = name
        self.rate = RateLimit()
        self.stats = ApiStats()
        self._etags: dict[str, Cached] = {}
        self._sem = asyncio.Semaphore(concurrency)
        self._secrets = tuple(s for s in secrets if s)
        self._clock = clock
        self.origin = origin(httpx.URL(self.base_url))

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _same_origin(self, method: str, url: str, how: str) -> None:
        """The auth headers go to the configured origin only: refuse anything else by name."""
        there = origin(httpx.URL(url))
        if there != self.origin:
            raise Unreachable(
                self.redact(
                    f"{self.name}: {method} {self._path(url)}: {how} {there} refused; "
                    f"credentials are only sent to {self.origin}"
                )
            )

    async def _send(
        self, method: str, url: str, *, stream: bool = False, **kw: Any
    ) -> httpx.Response:
        """Send, following same-origin redirects itself; a cross-origin one raises."""
        self._same_origin(method, url, "a link to")
        for _ in range(MAX_REDIRECTS + 1):
            request = self.client.build_request(method, url, **kw)
            if stream:
                request.extensions[UNCAPPED] = True
            resp = await self.client.send(request, stream=stream, follow_redirects=False)
            location = resp.headers.get("location")
            if not (resp.is_redirect and location):
                return resp
            await resp.aclose()
            url = str(resp.url.join(location))
            self._same_origin(method, url, "a redirect to")
            kw.pop("params", None)  # the Location carries its own query
        raise Unreachable(f"{self.name}: {method} {self._path(url)}: too many redirects")

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
    ) -> Response:
        """One request; a failure raises, except statuses in `accept`, which the caller handles."""
        url = self.url(path)
        hdrs = {**self.headers, **(headers or {})}
        cache_key = url + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        cached = self._etags.get(cache_key) if method == "GET" and conditional else None
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
                raise Unreachable(self._too_large(method, url, exc)) from None
            except httpx.TimeoutException:
                self.stats.errors += 1
                raise Unreachable(f"{self.name}: {method} {self._path(url)} timed out") from None
            except httpx.HTTPError as exc:
                self.stats.errors += 1
                raise Unreachable(
                    f"{self.name}: {method} {self._path(url)} failed: {type(exc).__name__}"
                ) from None
        self.rate.update(resp.headers)
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
            raise self._error(method, url, resp)
        body: Any = None
        if expect_json and resp.content:
            try:
                body = resp.json()
            except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
                raise Unreachable(
                    f"{self.name}: {method} {self._path(url)} returned malformed JSON "
                    f"({len(resp.content)} bytes)"
                ) from None
        elif not expect_json:
            body = resp.text
        kept = {
            k.lower(): v
            for k, v in resp.headers.items()
            if k.lower() in ("link", "etag", "x-total", "x-next-page")
        }
        etag = resp.headers.get("etag")
        if method == "GET" and conditional and etag:
            self._etags[cache_key] = Cached(etag, body, kept)
        return Response(resp.status_code, body, kept, links=parse_link(resp.headers.get("link")))

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
                    raise self._error("GET", url, resp)
                yield resp
        except httpx.TimeoutException:
            self.stats.errors += 1
            raise Unreachable(f"{self.name}: GET {self._path(url)} timed out") from None
        except httpx.HTTPError as exc:
            self.stats.errors += 1
            raise Unreachable(
                f"{self.name}: GET {self._path(url)} failed: {type(exc).__name__}"
            ) from None

    async def get(self, path: str, **kw: Any) -> Any:
        return (await self.request("GET", path, **kw)).body

    async def pages(
        self, path: str, *, params: Mapping[str, Any] | None = None, limit: int = 10
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
            resp = await self.request("GET", url, params=query)
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

    def _too_large(self, method: str, url: str, exc: ResponseTooLarge) -> str:
        return (
            f"{self.name}: {method} {self._path(url)}: {exc}, refused "
            f"(raise the connector's max_response_bytes if this is expected)"
        )

    def _path(self, url: str) -> str:
        return self.redact(httpx.URL(url).path)

    def _error(self, method: str, url: str, resp: httpx.Response) -> Exception:
        status = resp.status_code
        detail = self.redact(_message(resp))
        where = f"{self.name}: {method} {self._path(url)} -> {status}"
        wait = retry_after(resp.headers, self._clock())
        limited = status == 429 or (
            status == 403
            and (
                resp.headers.get("x-ratelimit-remaining") == "0"
                or "retry-after" in resp.headers
                or "rate limit" in detail.lower()
            )
        )
        if limited:
            when = f"; retry in {wait:.0f}s" if wait is not None else ""
            return RateLimited(f"{where}: rate limited{when}", retry_after=wait)
        if status in (401, 403):
            hint = (
                "credentials refused"
                if status == 401
                else "forbidden (missing scope or permission)"
            )
            return Unauthorized(f"{where}: {hint}{': ' + detail if detail else ''}")
        if status >= 500:
            return Unreachable(f"{where}: server error{': ' + detail if detail else ''}")
        return Rejected(f"{where}{': ' + detail if detail else ''}")


def _message(resp: httpx.Response) -> str:
    """The human part of an error body, cleaned and short (bodies are untrusted)."""
    try:
        body = resp.json()
    except ValueError:
        return clean(resp.text.strip(), limit=200)
    if isinstance(body, dict):
        for key in ("message", "error", "error_description", "errorMessage"):
            value = body.get(key)
            if isinstance(value, str) and value:
                # GitHub's validation errors say "Validation Failed"; the why is in errors[].
                errors = body.get("errors")
                why = [
                    e["message"]
                    for e in (errors if isinstance(errors, list) else [])
                    if isinstance(e, dict) and isinstance(e.get("message"), str)
                ]
                return clean("; ".join([value, *why]), limit=200)
            if isinstance(value, dict | list):
                return clean(json.dumps(value), limit=200)
    return clean(json.dumps(body), limit=200)
