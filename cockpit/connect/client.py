"""The HTTP client the hub gives each connector that uses HTTP, made when it is opened."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from cockpit.config import ConnectorSpec

ClientFactory = Callable[["ConnectorSpec"], "httpx.AsyncClient"]


def default_client(spec: ConnectorSpec) -> httpx.AsyncClient:
    """A client with the spec's timeout, our User-Agent, no redirects of its own, and the
    transport its options shape (CA file, client certificate, proxy, verify_tls, body cap)."""
    import httpx

    from cockpit import __version__
    from cockpit.connect.http_tls import transport

    return httpx.AsyncClient(
        timeout=httpx.Timeout(spec.timeout),
        headers={"User-Agent": f"release-cockpit/{__version__}"},
        follow_redirects=False,
        transport=transport(spec.options, spec.max_response_bytes, name=spec.name),
    )
