"""Kubeconfig files: pick a context and resolve its server, CA, credentials and namespace.

Follows kubectl's rules where they matter: `$KUBECONFIG` may list several files (the first
file to define a name wins, as does the first non-empty current-context), relative paths
are relative to the file that names them, and `-data` fields are base64. An `exec`
credential plugin or an OIDC `auth-provider` is resolved here into its settings; running
the plugin or refreshing the token is `connectors.kube.exec_plugin` and `.oidc`.
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
    plugin: ExecConfig | None = None  # an exec plugin gives the token or client certificate
    oidc: OidcConfig | None = field(default=None, repr=False)

    @property
    def client_cert(self) -> bool:
        return bool(self.cert_file or self.cert_data)

    @property
    def own_tls(self) -> bool:
        """Whether reaching the server needs TLS settings of its own (CA, client cert, insecure)."""
        return bool(self.ca_file or self.ca_data or self.insecure or self.client_cert)

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


EXEC_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
# The in-tree providers kubectl 1.26 removed, and the exec plugin that replaced each.
REMOVED_PROVIDERS = {"gcp": "gke-gcloud-auth-plugin", "azure": "kubelogin"}


@dataclass(frozen=True)
class ExecConfig:
    """A kubeconfig `exec` credential plugin, as client-go runs it."""

    api_version: str
    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # may carry secrets
    install_hint: str = ""
    interactive_mode: str = "IfAvailable"
    cluster: dict[str, Any] | None = field(default=None, repr=False)  # with provideClusterInfo


@dataclass(frozen=True)
class OidcConfig:
    """An `auth-provider: oidc` user: the id-token, and how to refresh it."""

    id_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    issuer: str = ""
    ca_file: str = ""
    ca_data: str = field(default="", repr=False)  # PEM


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
        plugin=_exec(user.get("exec"), cluster, cbase, ubase, name),
        oidc=_oidc(user.get("auth-provider"), ubase, name),
    )
    if access.client_cert != bool(access.key_file or access.key_data):
        raise KubeconfigError(
            f"context {name!r}: a client certificate needs its key, and a key its certificate"
        )
    return access


def _exec(
    spec: Any, cluster: dict[str, Any], cbase: Path, ubase: Path, context: str
) -> ExecConfig | None:
    """The user's exec plugin, refused here when it can never run unattended."""
    if not spec:
        return None
    version = str(spec.get("apiVersion") or "")
    command = str(spec.get("command") or "")
    if version not in EXEC_VERSIONS:
        raise KubeconfigError(
            f"context {context!r}: exec plugin apiVersion {clean(version)!r} is not supported "
            f"(use {' or '.join(EXEC_VERSIONS)})"
        )
    if not command:
        raise KubeconfigError(f"context {context!r}: the exec plugin has no command")
    # client-go: the interactive mode is required in v1 and IfAvailable by default before.
    mode = str(spec.get("interactiveMode") or ("" if version.endswith("/v1") else "IfAvailable"))
    if mode not in ("Never", "IfAvailable", "Always"):
        raise KubeconfigError(
            f"context {context!r}: exec plugin interactiveMode must be Never, IfAvailable or "
            f"Always (got {clean(mode)!r})"
        )
    if mode == "Always":
        raise KubeconfigError(
            f"context {context!r}: the {clean(command)!r} credential plugin asks for a terminal "
            "(interactiveMode: Always), which the cockpit never gives a plugin; log in with it "
            "in a shell first, or set interactiveMode: Never"
        )
    # A command with a slash is relative to the kubeconfig that names it; else it is on PATH.
    if os.sep in command and not Path(command).expanduser().is_absolute():
        command = str(ubase / command)
    return ExecConfig(
        api_version=version,
        command=command,
        args=tuple(str(a) for a in spec.get("args") or ()),
        env=tuple((str(e.get("name", "")), str(e.get("value", ""))) for e in spec.get("env") or ()),
        install_hint=str(spec.get("installHint") or ""),
        interactive_mode=mode,
        cluster=_cluster_info(cluster, cbase) if spec.get("provideClusterInfo") else None,
    )


def _cluster_info(cluster: dict[str, Any], base: Path) -> dict[str, Any]:
    """The ExecCredential spec.cluster: the kubeconfig cluster, its CA always as data."""
    info: dict[str, Any] = {"server": str(cluster.get("server") or "")}
    ca = cluster.get("certificate-authority-data")
    if not ca and cluster.get("certificate-authority"):
        try:
            pem = Path(_file(cluster["certificate-authority"], base)).read_bytes()
        except OSError as exc:
            raise KubeconfigError(f"cannot read the cluster CA: {exc.strerror}") from None
        ca = base64.b64encode(pem).decode("ascii")
    if ca:
        info["certificate-authority-data"] = str(ca)
    for key in ("tls-server-name", "insecure-skip-tls-verify", "proxy-url", "disable-compression"):
        if key in cluster:
            info[key] = cluster[key]
    for ext in cluster.get("extensions") or ():
        if ext.get("name") == "client.authentication.k8s.io/exec":
            info["config"] = ext.get("extension")
    return info


def _oidc(provider: Any, base: Path, context: str) -> OidcConfig | None:
    if not provider:
        return None
    name = str(provider.get("name") or "")
    if name in REMOVED_PROVIDERS:
        raise KubeconfigError(
            f"context {context!r}: the {name!r} auth-provider was removed in kubectl 1.26; "
            f"use the {REMOVED_PROVIDERS[name]} exec plugin instead"
        )
    if name != "oidc":
        raise KubeconfigError(
            f"context {context!r}: auth-provider {clean(name)!r} is not supported "
            "(oidc is, and exec plugins)"
        )
    conf = provider.get("config") or {}
    ca_data = conf.get("idp-certificate-authority-data")
    return OidcConfig(
        id_token=str(conf.get("id-token") or ""),
        refresh_token=str(conf.get("refresh-token") or ""),
        client_id=str(conf.get("client-id") or ""),
        client_secret=str(conf.get("client-secret") or ""),
        issuer=str(conf.get("idp-issuer-url") or "").rstrip("/"),
        ca_file=_file(conf.get("idp-certificate-authority"), base),
        ca_data=_b64(ca_data, "idp-certificate-authority-data", context).decode("ascii", "replace")
        if ca_data
        else "",
    )
