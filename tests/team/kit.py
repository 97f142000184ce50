"""Team-mode test kit: a StoreConfig for a LOGIN role (the password by reference, as in a
real config), fresh operator roles, and polling a condition with a deadline."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from cockpit.connect.option_values import Secret
from cockpit.team.store_config import StoreConfig
from tests.pgserver import PostgresServer


def store_for(url: str) -> StoreConfig:
    """`url` (with its password, as the fixtures make them) as a config would hold it."""
    parts = urlsplit(url)
    bare = f"postgresql://{parts.username}@{parts.hostname}:{parts.port}{parts.path}"
    secret = Secret("env:COCKPIT_TEST_PGPASSWORD")
    secret.resolve({"COCKPIT_TEST_PGPASSWORD": parts.password or ""})
    return StoreConfig(url=bare, password=secret)


def operator_role(server: PostgresServer, database_url: str, *groups: str) -> tuple[str, str]:
    """A fresh LOGIN role (member of `groups`): (its name, its URL of the same database)."""
    name = f"op_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    server.create_role(name, password, *groups)
    return name, server.url(database_url.rsplit("/", 1)[1], name, password)


def group_role(server: PostgresServer, prefix: str = "grp") -> str:
    """A fresh NOLOGIN role (cluster-wide, so the name is unique)."""
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
    return name


async def until(condition: Callable[[], bool], within: float, what: str) -> float:
    """Wait for `condition` (checked every 5 ms); seconds it took, or fail naming `what`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            raise AssertionError(f"{what}: not within {within:g}s")
        await asyncio.sleep(0.005)
    return time.monotonic() - start
