"""The Argo CD connector: applications as deployments, drift, sync windows, sync and rollback."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from cockpit.clock import Clock
from cockpit.connect.http import Api
from cockpit.connector import Capability, Connector
from cockpit.errors import ConnectorError, Rejected, Unauthorized, Unreachable
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import (
    Action,
    ActionKind,
    ActionResult,
    ChangeWindow,
    Deployment,
    DriftReport,
    Observation,
)
from connectors.argocd import actions, mapping
from connectors.argocd.apps import Applications
from connectors.argocd.auth import Auth, TokenCache
from connectors.argocd.diff import drift_items
from connectors.argocd.options import ArgoCDOptions
from connectors.argocd.windows import project_windows

PROJECT_TTL = 300.0  # sync windows change rarely; re-read projects every five minutes


class ArgoCDConnector(Connector):
    """Follows Argo CD applications through the list API and the application stream."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS, Capability.DRIFT, Capability.WINDOWS})
    ACTIONS = frozenset({ActionKind.SYNC, ActionKind.ROLLBACK})
    Options = ArgoCDOptions
    DESCRIPTION = "Argo CD: applications, drift, sync windows; sync and rollback"
    ROLLBACK_WARNING: ClassVar[str] = actions.ROLLBACK_WARNING

    def __init__(
        self,
        name: str,
        options: ArgoCDOptions,
        *,
        client: httpx.AsyncClient | None,
        clock: Clock,
        token_cache: TokenCache | None = None,
    ) -> None:
        super().__init__(name, options, client=client, clock=clock)
        if client is None:
            raise ConnectorError(f"{name}: the Argo CD connector needs an HTTP client")
        secret = options.token or options.password
        self.api = Api(client, options.url, name=name, secrets=(secret.reveal(),) if secret else ())
        self.auth = Auth(self.api, options, name, token_cache)
        self.apps = Applications(name, options, self.api, self.auth, self.changed)
        self.auth.on_refused = self._refused
        self._deployments: dict[str, Deployment] = {}
        # app name -> (its resourceVersion when fetched, the report)
        self._drift: dict[str, tuple[str, DriftReport | None]] = {}
        self._mapped: dict[str, tuple[dict[str, Any], Deployment]] = {}
        self._projects: dict[str, dict[str, Any]] = {}
        self._project_names: list[str] = []
        self._projects_at: float | None = None
        self._windows_key: object = None
        self._windows_cache: tuple[ChangeWindow, ...] = ()
        self._lock = asyncio.Lock()

    def _refused(self) -> None:
        # An open stream outlives a revoked token, and while it is live polls send no
        # REST request: list at once instead, so the source fails now, not at reconnect.
        self.apps.resync()
        self.changed()

    # Facts ------------------------------------------------------------------------------
    async def poll(self) -> Observation:
        async with self._lock:
            apps = await self.apps.current(live=self.live)
            now = self.clock.now()
            deployments = self._map(apps, now)
            drift = await self._drift_reports(apps, deployments, now)
            windows = await self._windows(apps)
        return Observation(
            source=self.name,
            observed_at=now,
            deployments=tuple(deployments.values()),
            drift=drift,
            windows=windows,
        )

    async def deployments(self) -> Sequence[Deployment]:
        return (await self.poll()).deployments

    async def drift(self) -> Sequence[DriftReport]:
        return (await self.poll()).drift

    async def windows(self) -> Sequence[ChangeWindow]:
        return (await self.poll()).windows

    def _map(self, apps: list[dict[str, Any]], now: datetime) -> dict[str, Deployment]:
        """Deployments by app name; an unchanged one keeps its object, so the hub sees no change."""
        out = {}
        mapped = {}
        for app in apps:
            name = mapping.name_of(app)
            seen, old = self._mapped.get(name, (None, None))
            if seen is app and old is not None:  # the stream did not touch it since
                new = old
            else:
                new = mapping.deployment(app, self.options, self.name, now)
                if old is not None and dataclasses.replace(new, observed_at=old.observed_at) == old:
                    new = old
            out[name] = new
            mapped[name] = (app, new)
        self._mapped = mapped
        self._deployments = out
        return out

    async def _drift_reports(
        self, apps: list[dict[str, Any]], deployments: Mapping[str, Deployment], now: datetime
    ) -> tuple[DriftReport, ...]:
        """Drift of every OutOfSync app; refetched only when the app's resourceVersion moved."""
        outdated = {
            mapping.name_of(a): a
            for a in apps
            if mapping.text(a, "status", "sync", "status") == "OutOfSync"
        }
        cache = {n: c for n, c in self._drift.items() if n in outdated}
        stale = [
            (n, a)
            for n, a in outdated.items()
            if n not in cache or cache[n][0] != mapping.text(a, "metadata", "resourceVersion")
        ]
        fetched = await asyncio.gather(
            *(self._resource_drift(n, a, deployments[n], now) for n, a in stale)
        )
        for (name, app), report in zip(stale, fetched, strict=True):
            cache[name] = (mapping.text(app, "metadata", "resourceVersion"), report)
        self._drift = cache
        return tuple(r for _, r in cache.values() if r is not None)

    async def _resource_drift(
        self, name: str, app: Mapping[str, Any], dep: Deployment, now: datetime
    ) -> DriftReport | None:
        path = f"/api/v1/applications/{quote(name, safe='')}/managed-resources"
        try:
            body = (await self.auth.request("GET", path, params=self._app_params(app))).body
        except Rejected:
            return None  # deleted since it was listed; the next event or list drops it
        items = body.get("items") if isinstance(body, Mapping) else None
        found = drift_items(items if isinstance(items, list) else [], self.options.max_drift_items)
        if not found:
            return None
        revision = mapping.short(mapping.sync_revision(app))
        return DriftReport(dep.service, dep.environment, revision, tuple(found), self.name, now)

    async def _windows(self, apps: list[dict[str, Any]]) -> tuple[ChangeWindow, ...]:
        names = sorted(
            set(self.options.projects) or {mapping.text(a, "spec", "project") for a in apps} - {""}
        )
        fresh = (
            self._projects_at is not None
            and self.clock.monotonic() - self._projects_at < PROJECT_TTL
        )
        if not fresh or names != self._project_names:
            bodies = await asyncio.gather(*(self._project(n) for n in names))
            self._projects = {n: b for n, b in zip(names, bodies, strict=True) if b is not None}
            self._projects_at = self.clock.monotonic()
            self._project_names = names
        # Windows depend on projects and on where each app points: recompute on change only.
        scope = frozenset(
            (
                mapping.name_of(a),
                mapping.text(a, "spec", "project"),
                mapping.text(a, "spec", "destination", "namespace"),
                mapping.text(a, "spec", "destination", "server"),
                mapping.text(a, "spec", "destination", "name"),
                self._deployments[mapping.name_of(a)].environment,
            )
            for a in apps
        )
        key = (self._projects_at, scope)
        if key != self._windows_key:
            env_of = lambda app: self._deployments[mapping.name_of(app)].environment  # noqa: E731
            out: list[ChangeWindow] = []
            for project in self._projects.values():
                out.extend(project_windows(project, apps, env_of, self.name))
            self._windows_key, self._windows_cache = key, tuple(out)
        return self._windows_cache

    async def _project(self, name: str) -> dict[str, Any] | None:
        try:
            body = (await self.auth.request("GET", f"/api/v1/projects/{quote(name, safe='')}")).body
        except Rejected:
            return None  # no such project (any more): it has no windows
        return body if isinstance(body, dict) else None

    @staticmethod
    def _app_params(app: Mapping[str, Any]) -> dict[str, str] | None:
        namespace = mapping.text(app, "metadata", "namespace")
        return {"appNamespace": namespace} if namespace else None

    # Actions ------------------------------------------------------------------------------
    def warnings(self, action: Action) -> Sequence[str]:
        return (self.ROLLBACK_WARNING,) if action.kind is ActionKind.ROLLBACK else ()

    def precheck(self, action: Action, snapshot: FleetSnapshot) -> str | None:
        if action.kind is not ActionKind.ROLLBACK:
            return None
        for app, dep in self._mapped.values():
            if dep.key == (action.service, action.environment):
                return actions.rollback_refusal(app, self.name)
        return None  # not listed yet: execute lists and checks again

    async def execute(self, action: Action) -> ActionResult:
        if action.kind not in self.ACTIONS:
            raise Rejected(f"{self.name}: Argo CD cannot {action.kind.value}")
        name = await self._target(action)
        path = f"/api/v1/applications/{quote(name, safe='')}"
        app = (await self.auth.request("GET", path)).body
        if not isinstance(app, dict):
            raise Unreachable(f"{self.name}: GET {path} did not return an application")
        if action.kind is ActionKind.SYNC:
            body, done = actions.sync_request(app, action)
            suffix = "sync"
        else:
            body, done = actions.rollback_request(app, action, self.name)
            suffix = "rollback"
        try:
            await self.auth.request("POST", f"{path}/{suffix}", json_body=body)
        except Unauthorized as exc:
            if "sync window" in str(exc):
                raise Rejected(str(exc)) from None  # a 403 that is policy, not credentials
            raise
        self.changed()
        return done

    async def _target(self, action: Action) -> str:
        """The application behind (service, environment), listing once if none is known yet."""
        for attempt in range(2):
            found = [
                n
                for n, d in self._deployments.items()
                if d.key == (action.service, action.environment)
            ]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                if action.remote_id in found:
                    return action.remote_id
                raise Rejected(
                    f"{self.name}: {action.service} in {action.environment} is several "
                    f"applications ({', '.join(sorted(found))}); map them apart with `services`"
                )
            if attempt == 0:
                await self.poll()
        raise Rejected(
            f"{self.name}: no Argo CD application for {action.service} in {action.environment}"
        )

    def retry_now(self) -> None:
        if self.apps.stream is not None:
            self.apps.stream.retry_now()

    async def aclose(self) -> None:
        await self.apps.close()
