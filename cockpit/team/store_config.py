"""`store:` in config: the team store (PostgreSQL) every operator's cockpit shares.

Plain data and its checks only (stdlib), so loading the config stays cheap: psycopg is
imported by `cockpit.team.connect` when a connection is made, never at start-up. Without a
`store:` section the cockpit keeps its single-user SQLite log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cockpit.connect.option_values import Duration, Secret

SCHEMES = ("postgresql", "postgres")
# libpq's sslmode values (https://www.postgresql.org/docs/current/libpq-ssl.html).
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass
class StoreConfig:
    """Where the team store is and how to reach it; the password only as a reference."""

    url: str  # postgresql://user@host:port/database, never with a password inside
    password: Secret | None = None  # env:NAME or keyring:service/user; else libpq's own means
    sslmode: str | None = None  # default: libpq's (prefer), or what the URL says
    sslrootcert: str | None = None  # CA file for verify-ca / verify-full ("system": the OS's)
    connect_timeout: Duration = Duration(10)  # noqa: RUF009 - an immutable float

    def where(self) -> str:
        """host:port/database, for messages: never the user's password."""
        return describe_url(self.url)


def is_url(text: str | None) -> bool:
    """Whether `text` names a PostgreSQL database (a `--db` or `audit.path` may)."""
    return bool(text) and urlsplit(str(text)).scheme in SCHEMES


def describe_url(url: str) -> str:
    """host:port/database of a PostgreSQL URL, without user or password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
    except ValueError:
        return "(an unreadable PostgreSQL URL)"
    database = parts.path.lstrip("/") or "(default database)"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}/{database}"


def problems(cfg: StoreConfig) -> list[tuple[str, str]]:
    """(key, why) for each thing wrong with `cfg`."""
    found: list[tuple[str, str]] = []
    found.extend(("url", why) for why in url_problems(cfg.url))
    if cfg.sslmode is not None and cfg.sslmode not in SSLMODES:
        found.append(("sslmode", f"sslmode {cfg.sslmode!r} is not one of {', '.join(SSLMODES)}"))
    if cfg.sslrootcert is not None:
        if not cfg.sslrootcert.strip():
            found.append(("sslrootcert", "sslrootcert is empty: leave it out for libpq's default"))
        elif cfg.sslrootcert != "system" and not os.path.isfile(
            os.path.expanduser(cfg.sslrootcert)
        ):
            found.append(("sslrootcert", f"no CA file at {cfg.sslrootcert}"))
    if cfg.connect_timeout <= 0:
        found.append(("connect_timeout", "connect_timeout must be positive"))
    return found


def url_problems(url: str) -> list[str]:
    """Why `url` cannot name the team store ([] when it can). A password inside it is
    refused: config files are copied, pasted and committed; `password:` takes a reference."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return [f"not a usable URL: {exc}"]
    if parts.scheme not in SCHEMES:
        return [f"expected a postgresql://user@host/database URL, got scheme {parts.scheme!r}"]
    found = []
    query = parse_qs(parts.query, keep_blank_values=True)
    if parts.password is not None or "password" in query:
        found.append(
            "the URL holds a password: take it out and write `password: env:NAME` "
            "(or keyring:service/user) under store:"
        )
    if not parts.path.strip("/") and "dbname" not in query:
        found.append("the URL names no database: postgresql://user@host:5432/DATABASE")
    mode = query.get("sslmode", [None])[0]
    if mode is not None and mode not in SSLMODES:
        found.append(f"sslmode {mode!r} in the URL is not one of {', '.join(SSLMODES)}")
    return found


def team_store(db: str | None, settings: Any) -> StoreConfig | None:
    """The team store a command uses: `--db URL`, else config's store: or an audit.path URL;
    None for an SQLite log (a `--db FILE` wins over a configured team store)."""
    if db:
        return StoreConfig(url=db) if is_url(db) else None
    if settings is not None and settings.store is not None:
        return settings.store
    path = settings.audit.path if settings is not None else None
    return StoreConfig(url=path) if path and is_url(path) else None


def empty_section(data: Any) -> bool:
    """Whether the file has a `store:` key with nothing under it: refused, since reading it
    as "no team store" would quietly keep every record on this host."""
    return isinstance(data, dict) and "store" in data and data["store"] is None
