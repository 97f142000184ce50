"""What keeps a connector's HTTP safe whatever the server does: the origin its token is for, a body cap."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

# A request with this extension set is a long-lived stream (watch, server-sent events):
# its total size grows for as long as it stays open, so the cap does not apply.
UNCAPPED = "cockpit.uncapped"
MAX_REDIRECTS = 5  # hops a request or download follows before it gives up


class ResponseTooLarge(httpx.TransportError):
    """A response body went past the connector's `max_response_bytes`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"response larger than {size_words(limit)}")
        self.limit = limit


def size_words(n: int) -> str:
    """A byte count as a person reads it: 32 MiB, 512 KiB, 1000 bytes."""
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
