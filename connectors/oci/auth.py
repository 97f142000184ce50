"""Registry auth: a static bearer token, basic auth, or the registry token exchange.

The exchange (distribution's token authentication): the registry answers 401 with
`WWW-Authenticate: Bearer realm="...",service="...",scope="..."`; the client asks the
realm for a token (`GET realm?service=...&scope=repository:<name>:pull`, with basic
credentials when configured, anonymously otherwise), gets `{"token"|"access_token",
"expires_in"}` and retries with `Authorization: Bearer <token>`. Tokens are kept per
scope until shortly before they expire, and redacted from every error message: they
never reach logs, problems or Evidence.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from cockpit.connect.http import Api
from cockpit.connect.http_safety import origin
from cockpit.errors import Unauthorized, Unreachable
from cockpit.sanitize import clean

_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^\s,]*))')
DEFAULT_LIFETIME = 60  # seconds: the spec's default when a token service names none
MARGIN = 10  # seconds before expiry a token is renewed


class RegistryApi(Api):
    """An Api whose redaction also covers the tokens minted for it (a hostile registry may
    echo the Authorization header back in an error body)."""

    def __init__(self, *args: object, minted: set[str], **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.minted = minted

    def redact(self, text: str) -> str:
        text = super().redact(text)
        for token in self.minted:
            text = text.replace(token, "***")
        return text


@dataclass(frozen=True)
class Challenge:
    """What a 401's WWW-Authenticate asked for."""

    scheme: str  # "bearer" or "basic" (lowercase)
    realm: str = ""
    service: str = ""


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge of a WWW-Authenticate header; None when there is none."""
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "basic"):
        return None
    params = {k.lower(): quoted or bare for k, quoted, bare in _PARAM.findall(rest)}
    return Challenge(scheme, params.get("realm", ""), params.get("service", ""))


class RegistryAuth:
    """Which Authorization header each repository's requests carry (see the module docstring)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        registry: str,
        name: str,
        now: Callable[[], datetime],
        *,
        token: str = "",
        username: str = "",
        password: str = "",
    ) -> None:
        self.client = client
        self.registry = registry
        self.name = name
        self.now = now
        self.static = token
        self.basic = ""
        secrets: tuple[str, ...] = (token,) if token else ()
        if username or password:
            self.basic = base64.b64encode(f"{username}:{password}".encode()).decode()
            secrets = (password, self.basic)
        self.secrets = secrets
        self.minted: set[str] = set()
        self.challenge: Challenge | None = None
        self._tokens: dict[str, tuple[str, datetime]] = {}  # scope -> token, renew after
        self._realms: dict[str, Api] = {}

    def api(self, **kw: object) -> RegistryApi:
        """An Api on the registry, its Authorization set by `authorize()`."""
        headers = {"Authorization": f"Bearer {self.static}"} if self.static else {}
        return RegistryApi(
            self.client,
            self.registry,
            headers=headers,
            name=self.name,
            secrets=self.secrets,
            minted=self.minted,
            **kw,
        )

    def learn(self, status: int, header: str) -> None:
        """Remember what a 401 asked for; anything else leaves the challenge as it was."""
        if status == 401:
            self.challenge = parse_challenge(header)

    def renewable(self) -> bool:
        """Whether another try with fresh credentials may succeed after a 401."""
        return not self.static and self.challenge is not None

    async def authorize(self, api: Api, scope: str, *, renew: bool = False) -> None:
        """Set `api`'s Authorization for `scope` ("" = none: a login check) as the last
        challenge asks; a static token is never exchanged."""
        if self.static or self.challenge is None:
            return
        if self.challenge.scheme == "basic":
            if not self.basic:
                raise Unauthorized(
                    f"{self.name}: the registry asks for a username and password (basic auth)"
                )
            api.headers["Authorization"] = f"Basic {self.basic}"
            return
        kept = self._tokens.get(scope)
        if kept is None or renew or self.now() >= kept[1]:
            kept = await self._mint(scope)
            self._tokens[scope] = kept
        api.headers["Authorization"] = f"Bearer {kept[0]}"

    async def _mint(self, scope: str) -> tuple[str, datetime]:
        challenge = self.challenge
        assert challenge is not None
        realm = challenge.realm
        there = httpx.URL(realm) if realm.startswith(("https://", "http://")) else None
        if there is None:
            raise Unreachable(f"{self.name}: the registry's token realm is not a URL")
        if there.scheme != "https" and httpx.URL(self.registry).scheme == "https":
            # Credentials go to the realm: never in clear when the registry itself is https.
            raise Unreachable(f"{self.name}: the registry's token realm is not https, refused")
        realm_api = self._realm_api(realm)
        params = {"service": challenge.service} if challenge.service else {}
        if scope:
            params["scope"] = scope
        body = await realm_api.get(realm, params=params, conditional=False)
        token = ""
        if isinstance(body, dict):
            token = body.get("token") or body.get("access_token") or ""
        if not isinstance(token, str) or not token:
            raise Unreachable(f"{self.name}: the token service answered without a token")
        self.minted.add(token)
        lifetime = body.get("expires_in") if isinstance(body, dict) else None
        seconds = lifetime if isinstance(lifetime, int) and lifetime > 0 else DEFAULT_LIFETIME
        return token, self.now() + timedelta(seconds=max(seconds - MARGIN, 1))

    def _realm_api(self, realm: str) -> Api:
        """An Api on the realm's origin carrying only the basic credentials (if any)."""
        key = origin(httpx.URL(realm))
        if key not in self._realms:
            headers = {"Authorization": f"Basic {self.basic}"} if self.basic else {}
            self._realms[key] = RegistryApi(
                self.client,
                key,
                headers=headers,
                name=f"{self.name} token service",
                secrets=self.secrets,
                minted=self.minted,
                concurrency=2,
            )
        return self._realms[key]


def unauthorized(name: str, what: str) -> Unauthorized:
    return Unauthorized(clean(f"{name}: {what} -> 401: the registry refused the credentials"))
