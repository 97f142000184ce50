"""Connecting to the team store: the libpq conninfo from `store:`, and errors without secrets.

psycopg is imported here, when a connection is made, never at start-up. The password is
looked up from its reference (`env:` / `keyring:`) at the last moment and goes only into
the conninfo handed to libpq; every message raised from here names the host and the
database and is scrubbed of the password, whatever libpq or psycopg put in it.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from cockpit.audit.records import AuditError
from cockpit.errors import ConfigError
from cockpit.sanitize import clean
from cockpit.team.store_config import (
    StoreConfig,
    client_cert_problems,
    describe_url,
    url_problems,
)

if TYPE_CHECKING:
    import psycopg

APPLICATION_NAME = "cockpit"


def _password(store: StoreConfig) -> str | None:
    if store.password is None:
        return None  # libpq's own means: PGPASSWORD, ~/.pgpass, store.sslcert/sslkey
    try:
        return store.password.reveal()
    except ValueError as exc:
        raise ConfigError(
            f"secret {store.password.ref} cannot be resolved: {exc}", field="store.password"
        ) from None


def connect_url(store: StoreConfig) -> str:
    """The libpq conninfo for `store`, password included: hand it to libpq, never print it."""
    return _conninfo(store)[0]


def _conninfo(store: StoreConfig) -> tuple[str, str | None]:
    """The conninfo and the password inside it (to scrub from any message)."""
    from psycopg.conninfo import make_conninfo

    problems = url_problems(store.url)
    if problems:
        raise ConfigError(problems[0], field="store.url")
    # Checked again here for a StoreConfig made in code: never a client certificate over
    # a link that may not be TLS (config loading already refused it, naming the line).
    refused = client_cert_problems(store, check_files=False)
    if refused:
        raise ConfigError(refused[0][1], field=f"store.{refused[0][0]}")
    extra: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(float(store.connect_timeout))),
        "application_name": APPLICATION_NAME,
    }
    if store.sslmode is not None:
        extra["sslmode"] = store.sslmode
    for key in ("sslrootcert", "sslcert", "sslkey"):
        path = getattr(store, key)
        if path is not None:  # libpq does not expand ~ itself; "system" stays as it is
            extra[key] = os.path.expanduser(path)
    password = _password(store)
    if password is not None:
        extra["password"] = password
    try:
        return make_conninfo(store.url, **extra), password
    except Exception as exc:  # psycopg.ProgrammingError for a URL libpq cannot parse
        raise ConfigError(
            f"libpq cannot read the URL of {store.where()}: {scrub(str(exc), password)}",
            field="store.url",
        ) from None


def scrub(text: str, *secrets: str | None) -> str:
    """`text` with each secret replaced, on one line, without control characters."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return clean(first)


def failure(
    store: StoreConfig, exc: BaseException, doing: str = "connect to", secret: str | None = None
) -> AuditError:
    """The AuditError for `exc` while `doing` the team store, with `secret` and the store's
    own password (when it has one) scrubbed."""
    own = None
    if store.password is not None:
        try:
            own = store.password.reveal()
        except ValueError:
            own = None  # never resolved, so never sent: nothing of it to scrub
    why = scrub(str(exc), secret, own) or type(exc).__name__
    return AuditError(f"cannot {doing} the team store {store.where()}: {why}")


def connect(store: StoreConfig, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A synchronous connection to the team store; AuditError when it cannot be made."""
    import psycopg

    conninfo, secret = _conninfo(store)
    try:
        return psycopg.connect(conninfo, autocommit=autocommit)
    except psycopg.Error as exc:
        raise failure(store, exc, secret=secret) from None


async def connect_async(
    store: StoreConfig, *, autocommit: bool = False
) -> psycopg.AsyncConnection[Any]:
    """An asyncio connection to the team store (LISTEN, the controller); AuditError if not."""
    import psycopg

    conninfo, secret = _conninfo(store)
    try:
        return await psycopg.AsyncConnection.connect(conninfo, autocommit=autocommit)
    except psycopg.Error as exc:
        raise failure(store, exc, secret=secret) from None


def from_url(url: str) -> StoreConfig:
    """A StoreConfig for a bare URL (`--db postgresql://...`, `audit copy --to URL`)."""
    return StoreConfig(url=url)


__all__ = [
    "connect",
    "connect_async",
    "connect_url",
    "describe_url",
    "failure",
    "from_url",
    "scrub",
]
