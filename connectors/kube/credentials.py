"""What a Kubernetes session authenticates with, and when to fetch it again.

A `Credentials` source hands out the credential to use now (a bearer token, or a client
certificate from an exec plugin) and hears when the server refused one. Sources cache:
a token is fetched again only when it expires or is refused, never per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from connectors.kube.kubeconfig import Access


@dataclass(frozen=True)
class Credential:
    """One credential as a source issued it."""

    token: str = field(default="", repr=False)
    cert: bytes = field(default=b"", repr=False)  # PEM, from an exec plugin
    key: bytes = field(default=b"", repr=False)
    expires: datetime | None = None  # None: until the server refuses it

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


class Credentials:
    """A source of credentials; the base serves a fixed or file-backed token."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self._held: Credential | None = None

    async def current(self) -> Credential:
        """The credential to send now."""
        if self._held is None:
            self._held = Credential(token=self.access.current_token())
        return self._held

    def refused(self, credential: Credential) -> None:
        """The server answered 401 to `credential`: fetch a fresh one next time.

        Only the credential in use is dropped, so a burst of requests that all failed
        with the same old token causes one fetch, not one each.
        """
        if self._held == credential and self.access.token_file:
            self._held = None  # a rotated service-account token: read the file again
