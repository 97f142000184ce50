"""Argo CD credentials: session login, a 401 recovered by one re-login, the keyring cache."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import keyring
import keyring.backend
import pytest

from cockpit.clock import FixedClock
from cockpit.connect.options import parse, secrets_of
from cockpit.errors import Unauthorized
from connectors.argocd import ArgoCDConnector, ArgoCDOptions
from connectors.argocd.auth import KEYRING_SERVICE
from tests.fixtures.argocd.fake import PASSWORD, TOKEN, USER, FakeArgoCD

URL = "https://argocd.example.com"
SESSION = {"url": URL, "username": USER, "password": "env:ARGOCD_PASSWORD", "stream": False}
ENV = {"ARGOCD_PASSWORD": PASSWORD, "ARGOCD_TOKEN": TOKEN}
CACHE_KEY = f"{USER}@{URL}"

Make = Callable[..., ArgoCDConnector]


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that works, in memory: what a desktop session's keyring does for us."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def fake() -> FakeArgoCD:
    return FakeArgoCD()


@pytest.fixture
async def make(fake: FakeArgoCD) -> AsyncIterator[Make]:
    made: list[tuple[ArgoCDConnector, httpx.AsyncClient]] = []

    def build(
        data: dict[str, Any] | None = None, env: dict[str, str] | None = None
    ) -> ArgoCDConnector:
        env = ENV if env is None else env
        options = parse(ArgoCDOptions, data or SESSION, env=env)
        for secret in secrets_of(options):
            secret.resolve(env)
        client = httpx.AsyncClient(transport=fake.transport())
        clock = FixedClock(datetime(2026, 8, 24, 9, 31, tzinfo=UTC))
        connector = ArgoCDConnector("argocd", options, client=client, clock=clock)
        made.append((connector, client))
        return connector

    yield build
    for connector, client in made:
        await connector.aclose()
        await client.aclose()


def trail(fake: FakeArgoCD) -> list[tuple[str, str, str]]:
    """(method, path, bearer) of every request, in order."""
    return [
        (r.method, r.path, r.headers.get("authorization", "").removeprefix("Bearer "))
        for r in fake.requests
    ]


def session(n: int) -> str:
    return f"eyJhbGciOiJIUzI1NiJ9.session-{n}.sig"


async def test_session_login_then_bearer(make: Make, fake: FakeArgoCD) -> None:
    await make().deployments()
    login = fake.seen("POST", "/api/v1/session")
    assert [r.body for r in login] == [{"username": USER, "password": PASSWORD}]
    assert trail(fake)[1] == ("GET", "/api/v1/applications", session(1))
    assert all(bearer == session(1) for _, path, bearer in trail(fake)[1:])


async def test_an_expired_session_costs_one_login_and_a_retry(make: Make, fake: FakeArgoCD) -> None:
    connector = make()
    await connector.deployments()
    fake.requests.clear()
    fake.tokens.discard(session(1))  # the JWT expired
    deployments = await connector.deployments()
    assert len(deployments) == 8
    assert trail(fake)[:3] == [
        ("GET", "/api/v1/applications", session(1)),
        ("POST", "/api/v1/session", session(1)),
        ("GET", "/api/v1/applications", session(2)),
    ]
    assert fake.sessions == 2


async def test_many_requests_seeing_401_share_one_login(make: Make, fake: FakeArgoCD) -> None:
    connector = make()
    await connector.deployments()
    fake.tokens.discard(session(1))
    paths = [f"/api/v1/applications/{n}" for n in ("shop-prod", "batch-dev", "ledger-prod")]
    answers = await asyncio.gather(*(connector.auth.request("GET", p) for p in paths))
    assert [a.status for a in answers] == [200, 200, 200]
    assert fake.sessions == 2


async def test_wrong_credentials_are_unauthorized_in_plain_words(
    make: Make, fake: FakeArgoCD
) -> None:
    connector = make(env={**ENV, "ARGOCD_PASSWORD": "hunter2-wrong"})
    with pytest.raises(Unauthorized) as caught:
        await connector.poll()
    message = str(caught.value)
    assert "refused the login of 'cockpit'" in message
    assert "wrong username or password" in message
    assert "hunter2-wrong" not in message
    assert fake.seen("GET") == []


async def test_a_refused_token_says_so_without_trying_to_log_in(
    make: Make, fake: FakeArgoCD
) -> None:
    connector = make({"url": URL, "token": "env:ARGOCD_TOKEN", "stream": False})
    fake.tokens.clear()
    with pytest.raises(Unauthorized, match="refused the token") as caught:
        await connector.poll()
    assert TOKEN not in str(caught.value)
    assert fake.seen("POST") == []


async def test_the_session_token_is_cached_in_the_keyring(
    make: Make, fake: FakeArgoCD, memory_keyring: MemoryKeyring
) -> None:
    await make().deployments()
    assert memory_keyring.store == {(KEYRING_SERVICE, CACHE_KEY): session(1)}
    fake.requests.clear()
    await make().deployments()  # a second cockpit start: no new login
    assert fake.seen("POST") == []
    assert trail(fake)[0] == ("GET", "/api/v1/applications", session(1))


async def test_a_stale_keyring_token_is_replaced(
    make: Make, fake: FakeArgoCD, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.store[(KEYRING_SERVICE, CACHE_KEY)] = "eyJhbGciOiJIUzI1NiJ9.expired.sig"
    await make().deployments()
    assert fake.sessions == 1
    assert memory_keyring.store == {(KEYRING_SERVICE, CACHE_KEY): session(1)}


async def test_without_a_keyring_the_token_lives_in_memory(make: Make, fake: FakeArgoCD) -> None:
    # conftest selects keyring's "fail" backend, as over SSH without a keyring daemon.
    connector = make()
    await connector.deployments()
    await connector.deployments()
    assert fake.sessions == 1
    assert connector.auth.cache._keyring is False
