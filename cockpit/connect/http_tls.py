"""Company-network options every HTTP connector shares (CA file, client certificate, proxy) and the client they build."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import ssl

    import httpx

log = logging.getLogger(__name__)

PROXY_SCHEMES = ("http", "https")


class NetworkSetupError(ValueError):
    """A CA file, client certificate or key that cannot be loaded: named, never its content."""


@dataclass(kw_only=True)
class NetworkOptions:
    """Mixed into a connector's options: how to reach its server through a company network.

    Keyword-only, so a connector's own required options (url, token) keep their place.
    """

    ca_file: str | None = field(
        default=None,
        metadata={
            "help": "A PEM file of the CA(s) that signed the server's certificate (a company CA), trusted instead of the system's.",
        },
    )
    client_cert: str | None = field(
        default=None,
        metadata={
            "help": "A PEM client certificate for mutual TLS (with its key in the same file, or in client_key).",
        },
    )
    client_key: str | None = field(
        default=None,
        metadata={
            "help": "The client certificate's private key (PEM, unencrypted), when it is not in client_cert.",
        },
    )
    proxy: str | None = field(
        default=None,
        metadata={
            "help": "An HTTP proxy for this connector, e.g. http://proxy.corp:3128; HTTPS_PROXY is not read.",
            "format": "url",
        },
    )

    def __post_init__(self) -> None:
        problem = network_problem(self)
        if problem:
            raise ValueError(problem)


def network_problem(options: Any) -> str | None:
    """What is wrong with the network options taken together, or None."""
    if getattr(options, "client_key", None) and not getattr(options, "client_cert", None):
        return "client_key needs client_cert (the certificate it belongs to)"
    if getattr(options, "ca_file", None) and getattr(options, "verify_tls", True) is False:
        return "ca_file is unused when verify_tls is false: keep ca_file and drop verify_tls"
    proxy = getattr(options, "proxy", None)
    if proxy is not None:
        parts = urlsplit(proxy)
        if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
            return "proxy must be an http:// or https:// URL, e.g. http://proxy.corp:3128"
    return None


def ssl_context(options: Any) -> ssl.SSLContext | bool:
    """The TLS settings of a connector's options: False when verify_tls is off (said loudly)."""
    if getattr(options, "verify_tls", True) is False:
        return False
    import ssl

    ca_file = getattr(options, "ca_file", None)
    try:
        # As curl's --cacert: the file replaces the system's CAs, so a server signed by
        # anyone else is refused.
        context = ssl.create_default_context(
            cafile=_readable("ca_file", ca_file) if ca_file else None
        )
    except ssl.SSLError:
        raise NetworkSetupError(f"ca_file {ca_file}: not a PEM certificate file") from None
    cert = getattr(options, "client_cert", None)
    if cert:
        key = getattr(options, "client_key", None)
        try:
            context.load_cert_chain(
                _readable("client_cert", cert), _readable("client_key", key) if key else None
            )
        except ssl.SSLError:
            # The message stays generic: whatever OpenSSL says may quote the key file.
            raise NetworkSetupError(
                f"client_cert {cert}: the certificate and key do not load or do not match "
                "(PEM, key unencrypted)"
            ) from None
    return context


def _readable(option: str, path: str) -> str:
    path = os.path.expanduser(path)
    if not os.path.isfile(path):
        raise NetworkSetupError(f"{option} {path}: no such file")
    if not os.access(path, os.R_OK):
        raise NetworkSetupError(f"{option} {path}: not readable")
    return path


def transport(options: Any, max_response_bytes: int, *, name: str = "") -> httpx.AsyncBaseTransport:
    """The transport a connector's client sends through: its TLS, its proxy, the body cap.

    The proxy is part of the inner transport rather than httpx's `proxy=` mount, which
    would route around the wrapping cap (issue 9's leftover).
    """
    import httpx

    from cockpit.connect.http_safety import CappedTransport

    verify = ssl_context(options)
    if verify is False:
        log.warning("connector %r: verify_tls is false, server certificates are NOT checked", name)
    proxy = getattr(options, "proxy", None)
    inner = httpx.AsyncHTTPTransport(verify=verify, proxy=proxy)
    return CappedTransport(inner, max_response_bytes)


def requests_settings(options: Any) -> dict[str, Any]:
    """The same options for a requests.Session (Prometheus): verify, cert and proxies."""
    verify: bool | str = True
    if getattr(options, "verify_tls", True) is False:
        verify = False
    elif getattr(options, "ca_file", None):
        verify = _readable("ca_file", options.ca_file)
    # trust_env off: HTTPS_PROXY and REQUESTS_CA_BUNDLE would override these options
    # unseen, and the httpx connectors do not read them either.
    settings: dict[str, Any] = {"verify": verify, "trust_env": False}
    cert = getattr(options, "client_cert", None)
    if cert:
        key = getattr(options, "client_key", None)
        settings["cert"] = (
            (_readable("client_cert", cert), _readable("client_key", key))
            if key
            else _readable("client_cert", cert)
        )
    proxy = getattr(options, "proxy", None)
    if proxy:
        settings["proxies"] = {"http": proxy, "https": proxy}
    return settings
