"""kubeconfig `auth-provider: oidc`: the id-token, refreshed at the issuer when it expires.

The id-token is sent as the bearer token while its `exp` claim is ahead of the clock (the
API server verifies it; we only read it). When it has expired, or the server refuses it,
the refresh-token is exchanged at the issuer's token endpoint (found through
`/.well-known/openid-configuration`). The new tokens are kept in memory only: the
cockpit does not rewrite the user's kubeconfig, as kubectl does.
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from cockpit.clock import Clock
from cockpit.sanitize import clean
from connectors.kube.credentials import Credential, Credentials
from connectors.kube.kubeconfig import Access, KubeconfigError, OidcConfig

# Refresh a little early, as client-go does, so a token does not expire in flight.
EARLY = timedelta(seconds=10)
TransportFactory = Callable[[ssl.SSLContext | bool], httpx.AsyncBaseTransport]


def token_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT, unverified; None when the token is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        exp = json.loads(payload).get("exp")
    except (binascii.Error, ValueError, AttributeError):
        return None
    if not isinstance(exp, int | float):
        return None
    return datetime.fromtimestamp(exp, UTC)


class OidcCredentials(Credentials):
    """Serves the id-token; refreshes it with the refresh-token when it is stale."""

    def __init__(self, access: Access, clock: Clock, transport: TransportFactory) -> None:
        super().__init__(access)
        assert access.oidc is not None
        self.conf: OidcConfig = access.oidc
        self.clock = clock
        self.transport = transport
        self.refreshes = 0
        self._id_token = self.conf.id_token
        self._refresh_token = self.conf.refresh_token

    async def current(self) -> Credential:
        if self._held is None:
            expires = token_expiry(self._id_token)
            if self._id_token and (expires is None or self.clock.now() < expires - EARLY):
                self._held = Credential(token=self._id_token, expires=expires)
            else:
                self._held = await self._refresh()
        elif self._held.expired(self.clock.now() + EARLY):
            self._held = await self._refresh()
        return self._held

    def refused(self, credential: Credential) -> None:
        if self._held == credential:
            self._id_token = ""  # refused: only a refresh can help now
            self._held = None

    async def _refresh(self) -> Credential:
        conf = self.conf
        if not (self._refresh_token and conf.issuer and conf.client_id):
            raise KubeconfigError(
                f"context {self.access.context!r}: the OIDC id-token has expired and the "
                "kubeconfig has no refresh-token, idp-issuer-url and client-id to renew it; "
                "log in again (e.g. kubectl oidc-login)"
            )
        self.refreshes += 1
        async with httpx.AsyncClient(
            transport=self.transport(self._tls()), timeout=httpx.Timeout(15.0)
        ) as client:
            endpoint = await self._endpoint(client)
            try:
                resp = await client.post(
                    endpoint,
                    data={"grant_type": "refresh_token", "refresh_token": self._refresh_token},
                    auth=(conf.client_id, conf.client_secret),
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise self._failed(f"token endpoint unreachable ({type(exc).__name__})") from None
        if resp.status_code != 200:
            raise self._failed(f"the issuer refused the refresh-token (HTTP {resp.status_code})")
        try:
            body = resp.json()
            id_token = str(body["id_token"])
        except (ValueError, KeyError, TypeError):
            raise self._failed("the token response has no id_token") from None
        self._id_token = id_token
        self._refresh_token = str(body.get("refresh_token") or self._refresh_token)
        return Credential(token=id_token, expires=token_expiry(id_token))

    async def _endpoint(self, client: httpx.AsyncClient) -> str:
        url = f"{self.conf.issuer}/.well-known/openid-configuration"
        try:
            resp = await client.get(url, headers={"Accept": "application/json"})
            endpoint = resp.json()["token_endpoint"] if resp.status_code == 200 else ""
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            endpoint = ""
        if not isinstance(endpoint, str) or not endpoint.startswith("https://"):
            raise self._failed(f"no https token_endpoint at {clean(url)}")
        return endpoint

    def _tls(self) -> ssl.SSLContext | bool:
        if not (self.conf.ca_file or self.conf.ca_data):
            return True
        try:
            return ssl.create_default_context(
                cafile=self.conf.ca_file or None, cadata=self.conf.ca_data or None
            )
        except (OSError, ssl.SSLError) as exc:
            raise self._failed(f"the issuer's CA cannot be loaded ({type(exc).__name__})") from None

    def _failed(self, why: str) -> KubeconfigError:
        return KubeconfigError(f"context {self.access.context!r}: OIDC token refresh failed: {why}")
