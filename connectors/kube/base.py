"""What the Kubernetes, Argo Rollouts and Flagger connectors share: options, access, caches.

Each connector names the resources it mirrors; the base turns its options into cluster
access (a kubeconfig context, or an explicit server and token), keeps one informer per
resource and namespace, maps objects to services and environments, and finds the object
an action is about.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

import httpx

from cockpit.clock import Clock
from cockpit.connect.options import Secret
from cockpit.connector import Connector
from cockpit.errors import Rejected, Unreachable
from cockpit.fleet.detail import LogTarget, ServiceDetail
from cockpit.model import Action, Deployment
from connectors.kube import kubeconfig
from connectors.kube.client import REPLICASETS, Kube, Resource, TransportFactory, http_client
from connectors.kube.credentials import Credential, Credentials
from connectors.kube.detail import fetch, follow
from connectors.kube.kubeconfig import Access
from connectors.kube.objects import Obj, controller_uid, ident, meta
from connectors.kube.watch import Informer, backoff

T = TypeVar("T")


class Memo(Generic[T]):
    """Facts mapped from objects, kept while their sources are unchanged.

    Unchanged objects then keep their identity (and observed_at) from poll to poll, so
    the snapshot sees only what really changed.
    """

    def __init__(self) -> None:
        self._old: dict[str, tuple[tuple[str, ...], T]] = {}
        self._new: dict[str, tuple[tuple[str, ...], T]] = {}

    def get(self, key: str, stamp: tuple[str, ...], build: Callable[[], T]) -> T:
        hit = self._old.get(key)
        value = hit[1] if hit is not None and hit[0] == stamp else build()
        self._new[key] = (stamp, value)
        return value

    def done(self) -> None:
        """End a pass: what was not asked for again is forgotten."""
        self._old, self._new = self._new, {}


def stamp(*objs: Obj | None) -> tuple[str, ...]:
    """What identifies these objects' current versions (their resourceVersions)."""
    return tuple(str(meta(o).get("resourceVersion", "")) if o else "" for o in objs)


@dataclass
class KubeOptions:
    kubeconfig: str = field(
        default="",
        metadata={"help": "The kubeconfig file; default: $KUBECONFIG, else ~/.kube/config."},
    )
    context: str = field(
        default="", metadata={"help": "The kubeconfig context; default: its current-context."}
    )
    server: str = field(
        default="",
        metadata={
            "help": "An API server address instead of a kubeconfig (with token or token_file).",
            "format": "url",
        },
    )
    token: Secret | None = field(
        default=None,
        metadata={"help": "A bearer token for server, as env:VAR or keyring:service/name."},
    )
    token_file: str = field(
        default="",
        metadata={
            "help": "A file holding the token for server; read again when refused (rotated tokens)."
        },
    )
    ca_file: str = field(
        default="",
        metadata={
            "help": "The CA bundle that signed server's certificate; default: the system's CAs."
        },
    )
    namespaces: list[str] = field(
        default_factory=list,
        metadata={
            "help": 'Namespaces to watch; default: the context\'s namespace; "*": every namespace.'
        },
    )
    label_selector: str = field(
        default="",
        metadata={"help": "Only objects matching this label selector (e.g. team=payments)."},
    )
    service_label: str = field(
        default="app.kubernetes.io/name",
        metadata={"help": "The label that names an object's service; else the object's name."},
    )
    services: dict[str, str] = field(
        default_factory=dict, metadata={"help": 'Service names by "namespace/name" or "name".'}
    )
    environment: str | dict[str, str] = field(
        default="",
        metadata={
            "help": "The environment of every object, or a mapping namespace -> environment; default: the namespace."
        },
    )

    def validate(self) -> None:
        if self.server:
            if not self.server.startswith(("https://", "http://")):
                raise ValueError("server must be an http(s):// URL")
            if self.kubeconfig or self.context:
                raise ValueError("give either server (and token) or kubeconfig/context, not both")
            if bool(self.token) == bool(self.token_file):
                raise ValueError("an explicit server needs exactly one of token and token_file")
        elif self.token or self.token_file or self.ca_file:
            raise ValueError(
                "token, token_file and ca_file go with server; a kubeconfig context has its own"
            )


class KubeConnector(Connector):
    """Base of the connectors that read a Kubernetes API server."""

    Options: ClassVar[type] = KubeOptions
    WATCHES: ClassVar[tuple[Resource, ...]] = ()
    # The workload whose pods the detail view shows (Deployment, Rollout); None: no detail.
    WORKLOAD: ClassVar[tuple[Resource, str, str] | None] = None  # resource, kind, annotation

    def __init__(
        self,
        name: str,
        options: KubeOptions,
        *,
        client: httpx.AsyncClient | None,
        clock: Clock,
        transport: TransportFactory | None = None,
    ) -> None:
        super().__init__(name, options, client=client, clock=clock)
        self.transport = transport  # None: the hub's client, or the network when TLS differs
        self.options: KubeOptions = options
        self.retry_after = backoff
        self.informers: dict[Resource, list[Informer]] = {}
        self._kube: Kube | None = None
        self._owned: httpx.AsyncClient | None = None
        self._retired: list[httpx.AsyncClient] = []

    # Access ------------------------------------------------------------------------
    def access(self) -> Access:
        o = self.options
        if o.server:
            return Access(
                server=o.server.rstrip("/"),
                context="(explicit)",
                ca_file=o.ca_file,
                token=o.token.reveal() if o.token else "",
                token_file=o.token_file,
            )
        paths = [Path(p).expanduser() for p in o.kubeconfig.split(os.pathsep) if p] or None
        return kubeconfig.load(paths, o.context)

    def credentials(self, access: Access) -> Credentials:
        """Where the session's credential comes from: an exec plugin, OIDC, or the token."""
        if access.plugin is not None:
            from connectors.kube.exec_plugin import ExecCredentials

            return ExecCredentials(access, self.clock)
        if access.oidc is not None:
            from connectors.kube.client import network_transport
            from connectors.kube.oidc import OidcCredentials

            return OidcCredentials(access, self.clock, self.transport or network_transport)
        return Credentials(access)

    async def kube(self) -> Kube:
        if self._kube is None:
            access = self.access()
            credentials = self.credentials(access)
            # A plugin may answer with a client certificate: TLS needs it before any request.
            first = await credentials.current()
            client = self._client_for(access, first)
            self._kube = Kube(
                client,
                access,
                self.name,
                credentials,
                retls=lambda held: self._client_for(access, held),
            )
        return self._kube

    def _client_for(self, access: Access, held: Credential) -> httpx.AsyncClient:
        if held.cert:
            access = replace(
                access, cert_data=held.cert, key_data=held.key, cert_file="", key_file=""
            )
        client, owned = http_client(
            self.client, access, self.transport, max_response_bytes=self.max_response_bytes
        )
        if owned:
            if self._owned is not None and self._owned is not client:
                self._retired.append(self._owned)
            self._owned = client
        return client

    def watched(self) -> tuple[Resource, ...]:
        """The resources to mirror (the class's WATCHES; options may drop some)."""
        return self.WATCHES

    def label_selector(self, resource: Resource) -> str:
        """The labelSelector for a resource's list and watch (the option, by default)."""
        return self.options.label_selector

    async def sync(self) -> None:
        """Mirror every watched resource: list on the first call, then watch in the background."""
        kube = await self.kube()
        namespaces = self.options.namespaces or [kube.access.namespace]
        for resource in self.watched():
            if resource not in self.informers:
                self.informers[resource] = [
                    Informer(
                        kube,
                        resource.collection(ns),
                        label_selector=self.label_selector(resource),
                        on_change=self.changed,
                        retry_after=self.retry_after,
                        now=self.clock.now,
                    )
                    for ns in namespaces
                ]
        for informers in self.informers.values():
            for informer in informers:
                await informer.sync(watch=self.live)
        for informers in self.informers.values():
            for informer in informers:
                # One drop is routine (the watch resumes); a failed reconnect is news.
                if informer.error is not None and informer.failures >= 2:
                    raise informer.error
                if self.live and (why := informer.stale()):
                    raise Unreachable(why)

    def retry_now(self) -> None:
        for informers in self.informers.values():
            for informer in informers:
                informer.retry_now()

    def objects(self, resource: Resource) -> Iterator[Obj]:
        for informer in self.informers.get(resource, ()):
            yield from informer.items.values()

    def owned_deployments(
        self,
        owners: Resource,
        memo: Memo[Deployment],
        to_deployment: Callable[[Obj, list[Obj]], Deployment],
    ) -> tuple[Deployment, ...]:
        """Each owner (Deployment, Rollout) mapped with the ReplicaSets it controls, through `memo`."""
        owned: dict[str, list[Obj]] = {}
        for rs in self.objects(REPLICASETS):
            owned.setdefault(controller_uid(rs), []).append(rs)
        out = []
        for obj in self.objects(owners):
            sets = owned.get(str(meta(obj).get("uid", "")), [])
            out.append(memo.get(ident(obj), stamp(obj, *sets), partial(to_deployment, obj, sets)))
        memo.done()
        return tuple(out)

    def generation(self) -> tuple[int, ...]:
        """Changes whenever any mirrored object changes (to reuse mapped facts otherwise)."""
        return tuple(i.generation for infs in self.informers.values() for i in infs)

    # Names ---------------------------------------------------------------------------
    def service_of(self, obj: Obj) -> str:
        m = meta(obj)
        name = str(m.get("name", ""))
        mapped = self.options.services.get(ident(obj)) or self.options.services.get(name)
        if mapped:
            return mapped
        labels = m.get("labels") or {}
        return str(labels.get(self.options.service_label) or name)

    def environment_of(self, obj: Obj) -> str:
        namespace = str(meta(obj).get("namespace", ""))
        env = self.options.environment
        if isinstance(env, dict):
            return env.get(namespace, namespace)
        return env or namespace

    def find(self, resource: Resource, action: Action) -> Obj:
        """The object an action is about: by remote_id (namespace/name), else by its cell.

        A rollback's remote_id names the history row (a revision number), not the object.
        """
        named = "/" in action.remote_id
        found = [
            obj
            for obj in self.objects(resource)
            if (
                ident(obj) == action.remote_id
                if named
                else (self.service_of(obj), self.environment_of(obj))
                == (action.service, action.environment)
            )
        ]
        if len(found) == 1:
            return found[0]
        what = action.remote_id if named else f"{action.service} in {action.environment}"
        if not found:
            raise Rejected(f"{self.name}: no {resource.plural} for {what}")
        raise Rejected(
            f"{self.name}: {len(found)} {resource.plural} match {what}; name one as namespace/name"
        )

    # On-demand detail (cockpit.fleet.detail) ------------------------------------------------
    async def detail(self, service: str, environment: str) -> ServiceDetail | None:
        if self.WORKLOAD is None:
            return None
        resource, kind, annotation = self.WORKLOAD
        await self.sync()
        owners = [
            o
            for o in self.objects(resource)
            if (self.service_of(o), self.environment_of(o)) == (service, environment)
        ]
        if not owners:
            return None
        return await fetch(
            await self.kube(),
            owners[0],
            kind=kind,
            annotation=annotation,
            container=str(getattr(self.options, "container", "")),
            source=self.name,
            service=service,
            environment=environment,
            now=self.clock.now(),
        )

    async def logs(self, target: LogTarget, tail: int) -> AsyncIterator[str]:
        async for line in follow(await self.kube(), target, tail):
            yield line

    async def aclose(self) -> None:
        for informers in self.informers.values():
            for informer in informers:
                await informer.close()
        self.informers.clear()
        for client in (*self._retired, self._owned):
            if client is not None:
                await client.aclose()
        self._owned, self._retired = None, []
        self._kube = None


def require(cond: bool, message: str) -> None:
    """Refuse an action with a message the operator can act on."""
    if not cond:
        raise Rejected(message)
