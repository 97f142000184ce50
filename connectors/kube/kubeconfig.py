"""Kubeconfig files: pick a context and resolve its server, CA, credentials and namespace.

Follows kubectl's rules where they matter: `$KUBECONFIG` may list several files (the first
file to define a name wins, as does the first non-empty current-context), relative paths
are relative to the file that names them, and `-data` fields are base64.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cockpit.errors import ConnectorError
from cockpit.sanitize import clean


class KubeconfigError(ConnectorError):
    """The kubeconfig cannot be used: missing, malformed, or an unsupported auth method."""


@dataclass(frozen=True)
class Access:
    """How to reach one API server as one user: the resolved form of a context."""

    server: str
    context: str  # the kubeconfig context it came from, or "(explicit)"
    namespace: str = "default"
    ca_file: str = ""
    ca_data: str = field(default="", repr=False)  # PEM
    insecure: bool = False
    token: str = field(default="", repr=False)
    token_file: str = ""  # re-read when the server refuses the token (rotation)
    cert_file: str = ""
    key_file: str = ""
    cert_data: bytes = field(default=b"", repr=False)
    key_data: bytes = field(default=b"", repr=False)

    @property
    def client_cert(self) -> bool:
        return bool(self.cert_file or self.cert_data)

    def current_token(self) -> str:
        """The bearer token now: read from the token file each time it is asked for."""
        if not self.token_file:
            return self.token
        try:
            return Path(self.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise KubeconfigError(
                f"cannot read token file {clean(self.token_file)}: {exc.strerror}"
            ) from None


def default_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """$KUBECONFIG's files (colon-separated, as kubectl reads it), else ~/.kube/config."""
    env = os.environ if env is None else env
    listed = [Path(p).expanduser() for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed or [Path("~/.kube/config").expanduser()]


@dataclass
class _Merged:
    current: str = ""
    clusters: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    users: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)


def _read(paths: list[Path]) -> _Merged:
    merged = _Merged()
    found = False
    for path in paths:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise KubeconfigError(
                f"cannot read kubeconfig {clean(str(path))}: {type(exc).__name__}"
            ) from None
        if not isinstance(doc, dict):
            raise KubeconfigError(f"kubeconfig {clean(str(path))} is not a mapping")
        found = True
        merged.current = merged.current or str(doc.get("current-context") or "")
        for key, target in (("clusters", merged.clusters), ("users", merged.users)):
            for entry in doc.get(key) or []:
                name = str(entry.get("name", ""))
                body = entry.get(key[:-1]) or {}
                target.setdefault(name, (body, path.parent))
        for entry in doc.get("contexts") or []:
            merged.contexts.setdefault(str(entry.get("name", "")), entry.get("context") or {})
    if not found:
        raise KubeconfigError("no kubeconfig found at " + ", ".join(clean(str(p)) for p in paths))
    return merged


def _file(value: object, base: Path) -> str:
    if not value:
        return ""
    path = Path(str(value)).expanduser()
    return str(path if path.is_absolute() else base / path)


def _b64(value: object, what: str, context: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise KubeconfigError(f"context {context!r}: {what} is not valid base64") from None


def load(
    paths: list[Path] | None = None,
    context: str = "",
    env: Mapping[str, str] | None = None,
) -> Access:
    """Resolve `context` (default: the current context) from the kubeconfig files."""
    merged = _read(paths or default_paths(env))
    name = context or merged.current
    if not name:
        raise KubeconfigError("the kubeconfig has no current-context; set the context option")
    if name not in merged.contexts:
        known = ", ".join(sorted(merged.contexts)) or "none"
        raise KubeconfigError(
            f"context {clean(name)!r} not found in the kubeconfig (known: {clean(known)})"
        )
    ctx = merged.contexts[name]
    cluster_name, user_name = str(ctx.get("cluster", "")), str(ctx.get("user", ""))
    if cluster_name not in merged.clusters:
        raise KubeconfigError(
            f"context {name!r} names cluster {clean(cluster_name)!r}, which is not defined"
        )
    cluster, cbase = merged.clusters[cluster_name]
    user, ubase = merged.users.get(user_name, ({}, cbase))
    server = str(cluster.get("server") or "")
    if not server:
        raise KubeconfigError(f"context {name!r}: cluster {clean(cluster_name)!r} has no server")
    if user.get("exec") or user.get("auth-provider"):
        plugin = (user.get("exec") or {}).get("command") or (user.get("auth-provider") or {}).get(
            "name"
        )
        raise KubeconfigError(
            f"context {name!r} authenticates through the {clean(str(plugin))!r} credential plugin, "
            "which the cockpit does not run; use a service-account token (token or tokenFile) "
            "or client certificates for this context"
        )
    if user.get("username") or user.get("password"):
        raise KubeconfigError(
            f"context {name!r} uses basic auth, which Kubernetes no longer supports; use a token"
        )
    ca_data = cluster.get("certificate-authority-data")
    cert_data = user.get("client-certificate-data")
    key_data = user.get("client-key-data")
    access = Access(
        server=server.rstrip("/"),
        context=name,
        namespace=str(ctx.get("namespace") or "default"),
        ca_file=_file(cluster.get("certificate-authority"), cbase),
        ca_data=_b64(ca_data, "certificate-authority-data", name).decode("ascii", "replace")
        if ca_data
        else "",
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        token=str(user.get("token") or ""),
        token_file=_file(user.get("tokenFile"), ubase),
        cert_file=_file(user.get("client-certificate"), ubase),
        key_file=_file(user.get("client-key"), ubase),
        cert_data=_b64(cert_data, "client-certificate-data", name) if cert_data else b"",
        key_data=_b64(key_data, "client-key-data", name) if key_data else b"",
    )
    if access.client_cert != bool(access.key_file or access.key_data):
        raise KubeconfigError(
            f"context {name!r}: a client certificate needs its key, and a key its certificate"
        )
    return access
