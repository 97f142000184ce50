"""`store:` in config: the team store (PostgreSQL) every operator's cockpit shares.

Plain data and its checks only (stdlib), so loading the config stays cheap: psycopg is
imported by `cockpit.team.connect` when a connection is made, never at start-up. Without a
`store:` section the cockpit keeps its single-user SQLite log.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cockpit.connect.option_values import Duration, Secret

SCHEMES = ("postgresql", "postgres")
# libpq's sslmode values (https://www.postgresql.org/docs/current/libpq-ssl.html).
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# A client certificate proves who we are; sent over a link that may not be TLS at all
# (disable, allow, prefer) it proves nothing worth having, so those modes are refused with it.
CERT_SSLMODES = ("require", "verify-ca", "verify-full")


@dataclass
class StoreConfig:
    """Where the team store is and how to reach it; the password only as a reference."""

    url: str  # postgresql://user@host:port/database, never with a password inside
    password: Secret | None = None  # env:NAME or keyring:service/user; else libpq's own means
    sslmode: str | None = None  # default: libpq's (prefer), or what the URL says
    sslrootcert: str | None = None  # CA file for verify-ca / verify-full ("system": the OS's)
    connect_timeout: Duration = Duration(10)  # noqa: RUF009 - an immutable float
    sslcert: str | None = None  # client certificate (absolute path): the role is its CN
    sslkey: str | None = None  # its private key (absolute path, 0600): with sslcert only

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


def problems(cfg: StoreConfig, *, check_files: bool = True) -> list[tuple[str, str]]:
    """(key, why) for each thing wrong with `cfg`.

    `check_files`: also refuse a client certificate or key this process cannot use. Off
    where the config is read without its secrets (a host that does not hold the key).
    """
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
    found.extend(client_cert_problems(cfg, check_files=check_files))
    try:
        query = parse_qs(urlsplit(cfg.url).query, keep_blank_values=True)
    except ValueError:
        query = {}  # url_problems above says why
    found.extend(
        ("url", f"{key} in the URL is not checked here: write it as store.{key}")
        for key in ("sslcert", "sslkey", "sslpassword")
        if key in query
    )
    return found


def effective_sslmode(cfg: StoreConfig) -> str | None:
    """The sslmode libpq will use: store.sslmode, else the URL's, else None (its default)."""
    if cfg.sslmode is not None:
        return cfg.sslmode
    try:
        query = parse_qs(urlsplit(cfg.url).query, keep_blank_values=True)
    except ValueError:
        return None
    return query.get("sslmode", [None])[0]


def client_cert_problems(cfg: StoreConfig, *, check_files: bool) -> list[tuple[str, str]]:
    """What stops `sslcert`/`sslkey` from working: both or neither, absolute paths, a
    verifying sslmode, and (with `check_files`) files libpq will accept. Only paths and
    permissions are ever named, never a byte of either file."""
    found: list[tuple[str, str]] = []
    if cfg.sslcert is None and cfg.sslkey is None:
        return found
    if cfg.sslcert is None or cfg.sslkey is None:
        given, missing = ("sslcert", "sslkey") if cfg.sslkey is None else ("sslkey", "sslcert")
        found.append((given, f"{given} needs {missing} too: give both or neither"))
    for key in ("sslcert", "sslkey"):
        value = getattr(cfg, key)
        if value is not None and not os.path.isabs(os.path.expanduser(value)):
            # Relative to what? A controller under systemd runs in /: refuse, do not guess.
            found.append((key, f"{key} must be an absolute path, got {value!r}"))
    mode = effective_sslmode(cfg)
    if mode not in CERT_SSLMODES:
        shown = f"sslmode {mode}" if mode else "no sslmode (libpq's default is prefer)"
        found.append(
            (
                "sslmode" if cfg.sslmode is not None else "sslcert",
                f"a client certificate needs sslmode verify-full (or verify-ca, require), "
                f"not {shown}: that would let the connection go without TLS",
            )
        )
    if check_files:
        found.extend(_unusable("sslcert", cfg.sslcert, key=False))
        found.extend(_unusable("sslkey", cfg.sslkey, key=True))
    return found


def _unusable(name: str, path: str | None, *, key: bool) -> list[tuple[str, str]]:
    """Why libpq would not use the file at `path` ([] when it would)."""
    if path is None or not os.path.isabs(os.path.expanduser(path)):
        return []
    full = os.path.expanduser(path)
    try:
        info = os.stat(full)
        if not stat.S_ISREG(info.st_mode):
            return [(name, f"{path} is not a regular file")]
        with open(full, "rb") as f:
            head = f.read(200)
    except OSError as exc:
        return [(name, f"cannot read {path!r}: {exc.strerror}")]
    if not key:
        return []
    # libpq's own rule (fe-secure-openssl.c), so the refusal comes now, not at connect time.
    owned_by_root = info.st_uid == 0
    loose = (
        info.st_mode & (stat.S_IWGRP | stat.S_IXGRP | stat.S_IRWXO)
        if owned_by_root
        else info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    )
    if loose:
        mode = oct(stat.S_IMODE(info.st_mode))[2:].zfill(4)
        return [
            (
                name,
                f"{path} has mode {mode}: libpq refuses a private key readable by group or "
                "others: chmod 0600 (or 0640 if owned by root)",
            )
        ]
    # PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY", or the traditional "Proc-Type: 4,ENCRYPTED".
    if any(
        line.startswith((b"-----BEGIN ENCRYPTED", b"Proc-Type: 4,ENCRYPTED"))
        for line in head.splitlines()
    ):
        return [
            (
                name,
                f"{path} is encrypted: the cockpit cannot type its pass phrase (libpq would "
                "prompt on the terminal); give a key without one, readable by you only",
            )
        ]
    return []


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
