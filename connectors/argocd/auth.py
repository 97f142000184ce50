"""Argo CD credentials: a configured bearer token, or a session login cached in the keyring."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from cockpit.connect.http import Api, Response
from cockpit.errors import Unauthorized, Unreachable
from cockpit.sanitize import clean
from connectors.argocd.options import ArgoCDOptions

log = logging.getLogger(__name__)

KEYRING_SERVICE = "cockpit-argocd"


class TokenCache:
    """Session tokens in the OS keyring when one works, and always in memory.

    Over SSH there is often no keyring; then the token lives only as long as the process.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self._memory: str | None = None
        self._keyring = True

    async def get(self) -> str | None:
        if self._memory is None:
            self._memory = await self._call("get_password")
        return self._memory

    async def put(self, token: str) -> None:
        self._memory = token
        await self._call("set_password", token)

    async def drop(self) -> None:
        self._memory = None
        await self._call("delete_password")

    async def _call(self, op: str, *args: str) -> str | None:
        if not self._keyring:
            return None
        try:
            import keyring

            # Keyring backends may block on D-Bus or a prompt: keep the event loop free.
            result = await asyncio.to_thread(getattr(keyring, op), KEYRING_SERVICE, self.key, *args)
        except Exception as exc:  # every backend has its own errors; memory still works
            if op != "delete_password":
                log.info(
                    "keyring unavailable for %s (%s); session token kept in memory",
                    self.key,
                    type(exc).__name__,
                )
                self._keyring = False
            return None
        return result if isinstance(result, str) and result else None


class Auth:
    """Sends every request with a valid bearer token, logging in again once on a 401."""

    def __init__(
        self, api: Api, options: ArgoCDOptions, name: str, cache: TokenCache | None = None
    ) -> None:
        self.api = api
        self.options = options
        self.name = name
        self.session = options.session
        key = f"{options.username}@{options.url.rstrip('/')}"
        self.cache = cache or TokenCache(key)
        self._token: str | None = None
        self._lock = asyncio.Lock()
        self.logins = 0
        self.on_refused: Callable[[], None] = lambda: None  # told of every final refusal
        if options.token is not None:
            self._use(options.token.reveal())

    def _use(self, token: str) -> None:
        self._token = token
        self.api.headers["Authorization"] = f"Bearer {token}"

    async def ready(self) -> str | None:
        """The token to send: the configured one, the cached session, or a fresh login."""
        if self._token is None and self.session:
            async with self._lock:
                if self._token is None:
                    cached = await self.cache.get()
                    if cached:
                        self._use(cached)
                    else:
                        await self._login()
        return self._token

    async def expired(self, token: str | None) -> None:
        """The server refused `token`: log in again (once, however many callers saw it)."""
        if not self.session:
            raise Unauthorized(
                f"{self.name}: Argo CD refused the token (expired, revoked, or for another "
                "server?): create a new one with `argocd account generate-token`"
            )
        async with self._lock:
            if self._token == token:
                await self.cache.drop()
                await self._login()

    async def request(self, method: str, path: str, **kw: Any) -> Response:
        """api.request with authentication; a 401 costs one re-login and one retry."""
        try:
            return await self._request(method, path, **kw)
        except Unauthorized:
            self.on_refused()
            raise

    async def _request(self, method: str, path: str, **kw: Any) -> Response:
        token = await self.ready()
        resp = await self.api.request(method, path, accept=(401,), **kw)
        if resp.status == 401:
            await self.expired(token)
            resp = await self.api.request(method, path, accept=(401,), **kw)
            if resp.status == 401:
                raise Unauthorized(
                    f"{self.name}: {method} {clean(path)} -> 401 even after a fresh login: "
                    f"{_detail(resp.body)}"
                )
        return resp

    async def _login(self) -> None:
        assert self.options.username is not None and self.options.password is not None
        password = self.options.password.reveal()
        self.logins += 1
        resp = await self.api.request(
            "POST",
            "/api/v1/session",
            json_body={"username": self.options.username, "password": password},
            accept=(401, 403),
        )
        if resp.status in (401, 403):
            raise Unauthorized(
                f"{self.name}: Argo CD refused the login of {clean(self.options.username)!r}: "
                "wrong username or password, or the account lacks the login capability"
            )
        token = resp.body.get("token") if isinstance(resp.body, Mapping) else None
        if not isinstance(token, str) or not token:
            raise Unreachable(f"{self.name}: POST /api/v1/session answered without a token")
        self._use(token)
        await self.cache.put(token)


def _detail(body: object) -> str:
    if isinstance(body, Mapping):
        for key in ("message", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return clean(body[key], limit=200)
    return "no session information"
