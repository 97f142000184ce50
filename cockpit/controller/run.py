"""The headless controller: stand by, or lead the team and run the fleet without a screen.

One process per host (two or more hosts for failover). Each serves /healthz, /readyz and
/metrics from the start and asks for the team store's lock (cockpit.controller.lease);
the one that holds it leads a *term*: the hub polls every connector, the judge gives
verdicts, the action service rolls failing canaries back where policy says so, the gate
webhooks are answered and checkpoints are emitted. A term ends when the process is told
to stop (SIGTERM, SIGINT: the lease is marked ended and a standby takes over at its next
try) or when the lock's session is lost (the process goes back to standing by, since
another controller may lead by then). Textual is never imported.

Who acts: records the controller writes itself carry the user `cockpit:controller` with
this host and pid; automatic rollbacks are `cockpit:auto-rollback`, as in the TUI. In
team mode the executor resolves the store's role for them as for any operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cockpit import __version__, heap
from cockpit.audit.events import Actor
from cockpit.clock import Clock, SystemClock
from cockpit.connect.client import ClientFactory, default_client
from cockpit.controller.http import Request, Response, Router, Server
from cockpit.controller.lease import Claim, LeaseInfo, LeaseLost

if TYPE_CHECKING:
    from cockpit.actions.autopilot import Proposal
    from cockpit.actions.service import ActionService
    from cockpit.config import Settings
    from cockpit.fleet.hub import Hub
    from cockpit.fleet.snapshot import FleetSnapshot
    from cockpit.journal import Journal

log = logging.getLogger(__name__)

CONTROLLER_USER = "cockpit:controller"
GATE_PREFIXES = ("/webhooks/", "/gate/")  # the gate routes (cockpit.controller.gates_http)


def controller_actor() -> Actor:
    """The controller in the records it writes itself: this host and process."""
    return Actor(CONTROLLER_USER, socket.gethostname(), "", os.getpid(), __version__)


class Controller:
    """Serves health and metrics, stands by, leads a term whenever it holds the lock."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str,
        port: int,
        clock: Clock | None = None,
        client_factory: ClientFactory = default_client,
        conninfo: str | None = None,  # tests: a plain URL for the lock's connection
    ) -> None:
        from cockpit.controller.metrics import ControllerMetrics

        assert settings.store is not None, "the controller runs in team mode only"
        self.settings = settings
        self.clock = clock or SystemClock()
        self.client_factory = client_factory
        self.actor = controller_actor()
        self.metrics = ControllerMetrics()
        self.claim = Claim(
            settings.store,
            settings.controller,
            host=self.actor.host,
            pid=self.actor.pid,
            version=__version__,
            conninfo=conninfo,
        )
        self.role = "starting"  # then "standby" or "leader"
        self.server = Server(self._router(), host, port)
        self.term: Term | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: stand by, lead whenever the lock is ours, stand by again."""
        await self.server.start()
        log.info(
            "serving /healthz, /readyz and /metrics on %s:%d", self.server.host, self.server.port
        )
        try:
            while not stop.is_set():
                self.role = "standby"
                previous = await _first(self.claim.acquire(), stop)
                if stop.is_set():
                    break
                self.term = Term(self, previous)
                try:
                    why = await self.term.run(stop)
                except Exception as exc:  # a bug must not keep the lock from a standby
                    log.exception("the term failed; stepping down")
                    why = f"failed: {type(exc).__name__}"
                    await self.claim.release()
                    await _first(asyncio.sleep(float(self.settings.controller.retry)), stop)
                finally:
                    self.term = None
                level = logging.INFO if why == "stopped" else logging.WARNING
                log.log(level, "leadership ended: %s", why)
        finally:
            self.role = "stopping"
            await self.claim.release()
            await self.server.close()

    # HTTP ------------------------------------------------------------------------
    def _router(self, extra: Callable[[Router], None] | None = None) -> Router:
        router = Router()
        router.add("GET", "/healthz", self.healthz)
        router.add("GET", "/readyz", self.readyz)
        router.add("GET", "/metrics", self.render_metrics)
        if extra is not None:
            extra(router)
        else:  # a standby: the gates are the leader's to answer
            for method in ("GET", "POST"):
                for prefix in GATE_PREFIXES:
                    router.add_prefix(method, prefix, self.not_leader)
        return router

    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "role": self.role,
            "host": self.actor.host,
            "pid": self.actor.pid,
            "version": __version__,
        }
        if self.claim.error:
            state["store_error"] = self.claim.error
        seen = self.claim.seen
        if self.role == "standby" and seen is not None:  # whom it stands by for
            state["leader"] = {k: seen.to_data()[k] for k in ("host", "pid", "since", "heartbeat")}
        return state

    async def healthz(self, _: Request) -> Response:
        """Liveness: 200 while the process works as leader or standby, 503 while it cannot
        reach the team store (a standby that cannot reach it could never take over)."""
        state = self._state()
        ok = self.role in ("leader", "standby") and not self.claim.error
        return Response.json(200 if ok else 503, state)

    async def readyz(self, _: Request) -> Response:
        """Readiness: 200 on the leader only, so a load balancer sends webhooks there."""
        return Response.json(200 if self.role == "leader" else 503, self._state())

    async def render_metrics(self, _: Request) -> Response:
        from cockpit.controller.metrics import CONTENT_TYPE

        return Response(200, self.metrics.render(), CONTENT_TYPE)

    async def not_leader(self, _: Request) -> Response:
        return Response.text(503, "this controller stands by; send gate requests to the leader\n")


class Term:
    """One leadership term: the fleet, the action service and the gates, until it ends."""

    def __init__(self, controller: Controller, previous: LeaseInfo | None) -> None:
        self.c = controller
        self.previous = previous
        self.tasks: set[asyncio.Task[Any]] = set()
        self.hub: Hub | None = None
        self.journal: Journal | None = None
        self.service: ActionService | None = None

    async def run(self, stop: asyncio.Event) -> str:
        """Lead until told to stop or the lease is lost; returns why the term ended."""
        from cockpit.actions.service import ActionService
        from cockpit.wiring import open_journal, wire_hub

        c = self.c
        settings, metrics = c.settings, c.metrics
        journal = open_journal(settings, c.clock)
        journal.append_observers.append(metrics.appended)
        hub, journal = wire_hub(
            settings, clock=c.clock, client_factory=c.client_factory, journal=journal
        )
        self.hub, self.journal = hub, journal
        self.service = ActionService(settings, hub, journal, actor=lambda: c.actor, clock=c.clock)
        c.role = "leader"
        metrics.leader.set(1)
        metrics.terms.inc()
        why = "stopped"
        try:
            await self._record("controller.started", self._started_extra())
            await self._follow_policy()
            hub.subscribe(metrics.observe)
            hub.subscribe(self._review)
            c.server.router = c._router(self._mount_gates())
            heap.return_large_blocks()  # it runs for weeks: freed big blocks go back
            await hub.start()
            self._start_checkpoints()
            log.info("leading the team store (took over from %s)", _who(self.previous))
            why = await self._hold(stop)
        finally:
            c.role = "stepping down"
            metrics.leader.set(0)
            c.server.router = c._router()
            for task in self.tasks:
                task.cancel()
            for task in list(self.tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await hub.stop()
            if why == "stopped":
                await self._record("controller.stopped", {"why": why})
            await asyncio.to_thread(journal.close)
        return why

    async def _hold(self, stop: asyncio.Event) -> str:
        """Renew the heartbeat every `heartbeat` seconds; re-read the team's policy."""
        cfg = self.c.settings.controller
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(cfg.heartbeat):
                    await stop.wait()
                    return "stopped"
            try:
                await self.c.claim.beat()
            except LeaseLost as exc:
                return f"lease lost: {exc}"
            await self._follow_policy()

    async def _follow_policy(self) -> None:
        """What is automatic follows the policy in force: the team's stored one."""
        assert self.service is not None
        try:
            await self.service.refresh_policy()
        except Exception:
            log.exception("reading the team's policy failed; the last one read holds")

    def _started_extra(self) -> dict[str, Any]:
        from cockpit.actions.identity import os_user

        c = self.c
        return {
            "host": c.actor.host,
            "pid": c.actor.pid,
            "os_user": os_user(),
            "took_over_from": self.previous.to_data() if self.previous else None,
        }

    async def _record(self, kind: str, extra: dict[str, Any]) -> None:
        assert self.journal is not None
        try:
            await self.journal.note(kind, self.c.actor, extra)
        except Exception as exc:  # the term goes on; every action still needs the log
            log.error("audit log: cannot record %s: %s", kind, exc)

    # The fleet's canaries ------------------------------------------------------------
    def _review(self, snap: FleetSnapshot) -> None:
        assert self.service is not None
        review = self.service.review(snap)
        for proposal in review.run:
            self._spawn(self._roll_back(proposal))
        for proposal in review.announce:
            log.warning(
                "canary %s %s in %s fails (%s): policy leaves the rollback to a person",
                proposal.service,
                proposal.canary_version,
                proposal.environment,
                proposal.summary,
            )

    async def _roll_back(self, proposal: Proposal) -> None:
        assert self.service is not None
        status, notice = await self.service.roll_back(proposal)
        self.c.metrics.acted("rollback", status)
        level = logging.INFO if status == "succeeded" else logging.ERROR
        log.log(level, "%s: %s", notice.title or "automatic rollback", notice.message)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("controller task failed", exc_info=task.exception())

    # Gates and checkpoints --------------------------------------------------------------
    def _mount_gates(self) -> Callable[[Router], None] | None:
        """The gate webhooks, when `webhooks:` configures any (answered by the leader only)."""
        settings = self.c.settings
        if not settings.webhooks.any:
            return None
        from cockpit.controller.gatekeeper import GateDeps
        from cockpit.controller.gates_http import mount

        assert self.service is not None and self.hub is not None
        deps = GateDeps(
            journal=self.journal,
            hub=self.hub,
            policy=self.service.executor.policy,
            config=settings.webhooks,
            clock=self.c.clock,
            actor=self.c.actor,
        )

        def add(router: Router) -> None:
            keeper = mount(router, deps)
            self._spawn(keeper.run())
            self._spawn(_closing(keeper))

        return add

    def _start_checkpoints(self) -> None:
        """Signed checkpoints to the sink outside the store, when `checkpoints:` is set."""
        if self.c.settings.checkpoints.enabled:
            self._spawn(self._checkpoints())

    async def _checkpoints(self) -> None:
        """The anchorer on a store connection of its own, until the term's end cancels it
        (cockpit.audit.anchorer: its failures are audited and retried, never raised)."""
        from cockpit.audit.anchorer import from_config
        from cockpit.audit.store import open_store

        c = self.c
        store = await asyncio.to_thread(
            open_store, clock=c.clock, create=False, store=c.settings.store
        )
        try:
            anchorer = from_config(c.settings.checkpoints, store, c.clock, actor=c.actor)
            if anchorer is not None:
                await anchorer.run(asyncio.Event())
        finally:
            await asyncio.to_thread(store.close)


async def _closing(keeper: Any) -> None:
    """Close the gatekeeper's sends when the term's tasks are cancelled."""
    try:
        await asyncio.Event().wait()
    finally:
        await keeper.close()


async def _first(work: Any, stop: asyncio.Event) -> Any:
    """`work`'s result, or None as soon as `stop` is set (the work is cancelled)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


def _who(lease: LeaseInfo | None) -> str:
    if lease is None:
        return "nobody: the first leader of this store"
    state = "stepped down" if lease.ended else f"last heard {lease.age:.1f}s ago"
    return f"{lease.host} pid {lease.pid} ({state})"
