"""`Api.download`: a GET read as bytes (CI artifacts, release assets), capped, whose redirects
to another host (a CI artifact's 302 to blob storage) are followed without the auth headers.

Only the caller's `headers` (never the Api's own) go past the first cross-origin hop, and a
redirect from https down to http is refused. Failures map as `Api.request` maps them.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from cockpit.connect.http_errors import transport_failure
from cockpit.connect.http_safety import MAX_REDIRECTS, ResponseTooLarge, origin
from cockpit.errors import Unreachable

if TYPE_CHECKING:
    from cockpit.connect.http import Api


@dataclass(frozen=True)
class Downloaded:
    """What `Api.download` returns: the status (2xx or an accepted one) and the raw bytes."""

    status: int
    content: bytes


async def download(
    api: Api,
    path: str,
    *,
    limit: int,
    headers: Mapping[str, str] | None = None,
    accept: Collection[int] = (),
) -> Downloaded:
    """GET `path` through `api` as at most `limit` bytes (see the module's docstring)."""
    url = api.url(path)
    api.check_origin("GET", url, "a link to")
    hdrs = {**api.headers, **(headers or {})}
    async with api.slot():
        api.stats.requests += 1
        try:
            for _ in range(MAX_REDIRECTS + 1):
                request = api.client.build_request("GET", url, headers=hdrs)
                resp = await api.client.send(request, stream=True, follow_redirects=False)
                async with contextlib.aclosing(resp):
                    location = resp.headers.get("location")
                    if not (resp.is_redirect and location):
                        return await _read(api, url, resp, limit, accept)
                there = resp.url.join(location)
                if resp.url.scheme == "https" and there.scheme != "https":
                    raise Unreachable(f"{api.name}: GET {api.shown_path(url)}: redirect to http")
                if origin(there) != api.origin:
                    hdrs = dict(headers or {})  # the token stays with its origin
                url = str(there)
        except ResponseTooLarge as exc:
            api.stats.errors += 1
            raise Unreachable(api.too_large("GET", url, exc)) from None
        except httpx.TimeoutException:
            api.stats.errors += 1
            raise Unreachable(f"{api.name}: GET {api.shown_path(url)} timed out") from None
        except (httpx.HTTPError, ssl.SSLError) as exc:
            api.stats.errors += 1
            raise Unreachable(
                f"{api.name}: GET {api.shown_path(url)} failed: {transport_failure(exc)}"
            ) from None
    raise Unreachable(f"{api.name}: GET {api.shown_path(url)}: too many redirects")


async def _read(
    api: Api, url: str, resp: httpx.Response, limit: int, accept: Collection[int]
) -> Downloaded:
    """The final response's body, refused past `limit` (by its length when it says one)."""
    if origin(resp.url) == api.origin:  # another host's rate limit is not this API's
        api.rate.update(resp.headers)
    length = resp.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ResponseTooLarge(limit)
    chunks, seen = [], 0
    async for chunk in resp.aiter_bytes():
        seen += len(chunk)
        if seen > limit:
            raise ResponseTooLarge(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    if resp.status_code >= 400 and resp.status_code not in accept:
        api.stats.errors += 1
        read = httpx.Response(resp.status_code, headers=resp.headers, content=body)
        raise api.failure("GET", url, read)
    return Downloaded(resp.status_code, body)
