"""Talking to a Kubernetes API server: TLS from the kubeconfig, bearer tokens, lists, patches.

Plain requests go through `cockpit.connect.http.Api` (error mapping, redaction). The credential
comes from a `Credentials` source; when the server answers 401 the source is asked once for
a fresh one (a token file re-read, an exec plugin re-run, an OIDC refresh) and the request
retried; a credential refused again is `Unauthorized`.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from cockpit.connect.http import Api
from cockpit.connect.http_safety import CappedTransport
from cockpit.connector import DEFAULT_MAX_RESPONSE_BYTES
from cockpit.errors import Unauthorized, Unreachable
from connectors.kube.credentials import Credential, Credentials
from connectors.kube.kubeconfig import Access

T = TypeVar("T")
# Builds the transport for a TLS setting: the seam between the cluster and the network.
TransportFactory = Callable[[ssl.SSLContext | bool], httpx.AsyncBaseTransport]

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"


@dataclass(frozen=True)
class Resource:
    """One API resource type, e.g. apps/v1 deployments."""

    prefix: str  # "apis/apps/v1", or "api/v1" for the core group
    plural: str

    def collection(self, namespace: str) -> str:
        """The list/watch path; namespace "*" means every namespace."""
        if namespace == "*":
            return f"/{self.prefix}/{self.plural}"
        return f"/{self.prefix}/namespaces/{namespace}/{self.plural}"

    def item(self, namespace: str, name: str, subresource: str = "") -> str:
        path = f"/{self.prefix}/namespaces/{namespace}/{self.plural}/{name}"
        return f"{path}/{subresource}" if subresource else path


DEPLOYMENTS = Resource("apis/apps/v1", "deployments")
REPLICASETS = Resource("apis/apps/v1", "replicasets")
ROLLOUTS = Resource("apis/argoproj.io/v1alpha1", "rollouts")
ANALYSISRUNS = Resource("apis/argoproj.io/v1alpha1", "analysisruns")
CANARIES = Resource("apis/flagger.app/v1beta1", "canaries")
PODS = Resource("api/v1", "pods")
EVENTS = Resource("api/v1", "events")


def ssl_context(access: Access) -> ssl.SSLContext:
    """Trust only the kubeconfig's CA (system CAs without one) and present its client cert."""
    ctx = ssl.create_default_context(cafile=access.ca_file or None, cadata=access.ca_data or None)
    if access.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if access.cert_data or access.key_data:
        # ssl loads key material only from files: a private, short-lived directory.
        with tempfile.TemporaryDirectory(prefix="cockpit-kube-") as tmp:
            cert = os.path.join(tmp, "client.crt")
            key = os.path.join(tmp, "client.key")
            for path, data in ((cert, access.cert_data), (key, access.key_data)):
                if data:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as out:
                        out.write(data)
            ctx.load_cert_chain(
                cert if access.cert_data else access.cert_file,
                key if access.key_data else access.key_file,
            )
    elif access.cert_file:
        ctx.load_cert_chain(access.cert_file, access.key_file)
    return ctx


def network_transport(verify: ssl.SSLContext | bool) -> httpx.AsyncBaseTransport:
    """The production transport factory: a real connection pool with the given TLS."""
    return httpx.AsyncHTTPTransport(verify=verify)


def http_client(
    injected: httpx.AsyncClient | None,
    access: Access,
    transport: TransportFactory | None = None,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> tuple[httpx.AsyncClient, bool]:
    """The client to use, and whether this connector owns (and must close) it.

    The hub's client knows nothing of the cluster: it serves a context whose server the
    system's CAs vouch for. A context with TLS settings of its own (a CA, a client
    certificate, insecure-skip-tls-verify) gets a client of its own, built by `transport`
    (the network by default; tests hand in a fake), keeping the hub's timeout and headers.
    A `transport` given explicitly is always used.
    """
    if injected is not None and transport is None and not access.own_tls:
        return injected, False
    timeout = injected.timeout if injected is not None else httpx.Timeout(10.0)
    headers = dict(injected.headers) if injected is not None else {}
    verify: ssl.SSLContext | bool = True
    if access.server.startswith("https://"):
        try:
            verify = ssl_context(access)
        except (OSError, ssl.SSLError) as exc:
            raise Unreachable(
                f"TLS setup for context {access.context!r} failed: {type(exc).__name__}"
            ) from None
    made = (transport or network_transport)(verify)
    client = httpx.AsyncClient(
        timeout=timeout,
        headers=headers,
        transport=CappedTransport(made, max_response_bytes),  # the config's, as the hub's
    )
    return client, True


def selector(spec: Mapping[str, Any] | None) -> str:
    """A LabelSelector object as the labelSelector query string (keys sorted, as kubectl)."""
    if not spec:
        return ""
    parts: list[tuple[str, str]] = []
    for key, value in (spec.get("matchLabels") or {}).items():
        parts.append((key, f"{key}={value}"))
    for expr in spec.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(sorted(expr.get("values") or []))
        text = {
            "In": f"{key} in ({values})",
            "NotIn": f"{key} notin ({values})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(op)
        if text:
            parts.append((key, text))
    return ",".join(text for _, text in sorted(parts))


class Kube:
    """One connector's session with one API server."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        access: Access,
        name: str,
        credentials: Credentials | None = None,
        retls: Callable[[Credential], httpx.AsyncClient] | None = None,
    ) -> None:
        self.client = client
        self.access = access
        self.name = name
        self.credentials = credentials or Credentials(access)
        self._retls = retls  # a client for a plugin's new client certificate
        self._held = Credential()
        self.api = self._api()

    def _api(self) -> Api:
        token = self._held.token
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return Api(
            self.client, self.access.server, headers=headers, name=self.name, secrets=(token,)
        )

    async def fresh(self) -> Api:
        """The API with the credential to use now (fetched again only when it changed)."""
        held = await self.credentials.current()
        if held != self._held:
            if held.cert != self._held.cert and self._retls is not None:
                # Streams open on the old client finish there; its owner closes it later.
                self.client = self._retls(held)
            self._held = held
            self.api = self._api()
        return self.api

    async def _renewed(self) -> bool:
        """After a 401: a fresh credential from the source; True when it differs."""
        refused = self._held
        self.credentials.refused(refused)
        await self.fresh()
        return self._held != refused

    async def call(self, fn: Callable[[Api], Awaitable[T]]) -> T:
        """Run `fn` with the API; on 401 retry once with a renewed credential."""
        try:
            return await fn(await self.fresh())
        except Unauthorized:
            if not await self._renewed():
                raise
        return await fn(self.api)

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.call(lambda api: api.get(path, params=params, conditional=False))

    async def patch(
        self, path: str, body: Any, content_type: str, *, accept: tuple[int, ...] = ()
    ) -> int:
        """PATCH with a patch type; returns the status (those in `accept` do not raise)."""

        async def send(api: Api) -> int:
            resp = await api.request(
                "PATCH",
                path,
                json_body=body,
                headers={"Content-Type": content_type},
                conditional=False,
                accept=accept,
            )
            return resp.status

        return await self.call(send)

    async def list_page(self, path: str, params: Mapping[str, Any]) -> tuple[int, Any]:
        """One page of a list; a 410 (expired continue token) is returned, not raised."""

        async def send(api: Api) -> tuple[int, Any]:
            resp = await api.request("GET", path, params=params, conditional=False, accept=(410,))
            return resp.status, resp.body

        return await self.call(send)

    @asynccontextmanager
    async def stream(
        self, path: str, params: Mapping[str, Any], idle: float
    ) -> AsyncIterator[httpx.Response]:
        """A watch stream; 410 is handed to the caller (re-list), 401 retried once renewed."""
        opened = False
        api = await self.fresh()
        for attempt in (1, 2):
            try:
                async with api.stream(
                    path, params=params, idle_timeout=idle, accept=(410,)
                ) as resp:
                    opened = True
                    yield resp
                    return
            except Unauthorized:
                if opened or attempt == 2 or not await self._renewed():
                    raise
                api = self.api
