"""The anchorer: a signed checkpoint to a sink outside the store every N records or M minutes.

The controller's leader runs it (`run`); anything else may call `tick`. Each checkpoint
anchors the log as it stands, after checking that the records since the previous
checkpoint chain onto it, so a rewritten log is never anchored (it is reported instead).
Never two checkpoints for the same head: an idle log gets none, and the anchorer's own
"checkpoint written" record does not count as activity. A failure (sink missing, key
unusable, log not intact) is an audited warning, retried with backoff, and never reaches
the caller: anchoring must not stop the controller's other work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cockpit.audit.anchors import AnchorError, Sink, file_name
from cockpit.audit.checkpoint import Checkpoint
from cockpit.audit.events import Actor, AuditEvent, EventType
from cockpit.audit.records import AuditRecord, VerifyResult
from cockpit.audit.verify import Row, verify_rows
from cockpit.errors import CockpitError
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.anchors_config import CheckpointsConfig
    from cockpit.audit.store import AuditStore
    from cockpit.clock import Clock

log = logging.getLogger(__name__)
ACTION = "audit.anchor"  # the anchorer's records; `audit checkpoint` by hand is audit.checkpoint


class Anchorer:
    """Emits signed checkpoints of `store` to `sink`; see the module docstring."""

    def __init__(
        self,
        store: AuditStore,
        sink: Sink,
        *,
        every_records: int,
        every_minutes: float,
        key: str | None,
        clock: Clock,
        actor: Actor | None = None,
        poll_seconds: float = 2.0,
        retry_seconds: float = 10.0,
        retry_max_seconds: float = 300.0,
    ) -> None:
        """`key`: an SSH private key file, or a .pub whose private half is in ssh-agent
        (None: the agent's first key). `poll_seconds`: how often `run` looks at the head."""
        if every_records < 1 or every_minutes <= 0:
            raise ValueError("every_records and every_minutes must be positive")
        self.store, self.sink, self.key, self.clock = store, sink, key, clock
        self.every_records = every_records
        self.every = timedelta(minutes=every_minutes)
        self.poll_seconds = poll_seconds
        self._retry = (retry_seconds, retry_max_seconds)
        self._actor = actor
        self._last: Checkpoint | None = None
        self._loaded = False  # whether _last reflects the sink (read once, then kept)
        self._failures = 0
        self._retry_at: datetime | None = None
        self._reported = ""  # the problem last audited: the same one again is only logged

    @property
    def last(self) -> Checkpoint | None:
        """The newest checkpoint in the sink, as far as this anchorer knows."""
        return self._latest()

    def _latest(self) -> Checkpoint | None:
        if not self._loaded:
            self._last = self.sink.latest()
            self._loaded = True
        return self._last

    def due(self) -> bool:
        """Whether a checkpoint should be emitted now (False while waiting to retry)."""
        if self._retry_at is not None and self.clock.now() < self._retry_at:
            return False
        head = self.store.head()
        size = head.seq if head else 0
        last = self._latest()
        if last is None:
            return size > 0
        if size == last.size:
            return False
        if size < last.size or head is None:  # truncated: emit() says so
            return True
        if _own_record(head, last):
            return False
        if size - last.size >= self.every_records:
            return True
        return self.clock.now() - last.timestamp >= self.every

    def tick(self) -> Checkpoint | None:
        """`emit()` when `due()`; never raises (a failure is audited and retried)."""
        try:
            if not self.due():
                return None
        except (CockpitError, OSError) as exc:
            self._failed(f"cannot read the log or the sink: {exc}")
            return None
        return self.emit()

    def emit(self) -> Checkpoint | None:
        """Anchor the log's current head now; None (and an audited warning) on failure."""
        try:
            cp = self._anchor()
        except (CockpitError, OSError) as exc:
            self._failed(str(exc))
            return None
        return cp

    def _anchor(self) -> Checkpoint:
        last = self._latest()
        cp = replace(self.store.checkpoint(), timestamp=self.clock.now())
        if last is not None and (cp.size, cp.head_hash) == (last.size, last.head_hash):
            return last  # never two checkpoints for the same head
        head = self.store.head() if last is not None and cp.size == last.size + 1 else None
        if last is not None and head is not None and _own_record(head, last):
            return last  # nor one whose only news is the record of writing the last
        if last is not None:
            self._check_continues(last, cp)
        else:
            self._check_whole(cp)
        signed = cp.sign(self.key)
        where = self.sink.write(signed)
        self._last, self._loaded = signed, True
        recovered, self._failures, self._retry_at, self._reported = self._failures, 0, None, ""
        extra: dict[str, object] = {
            "size": signed.size,
            "head_hash": signed.head_hash,
            "signed": True,
            "output": where,
            "sink": self.sink.describe(),
        }
        if recovered:
            extra["after_failed_attempts"] = recovered
        self._record("success", "", extra)
        return signed

    def _check_continues(self, last: Checkpoint, cp: Checkpoint) -> None:
        """AnchorError unless records last.size+1..cp.size chain onto `last`."""
        name = file_name(last.size)
        if last.origin != cp.origin:
            raise AnchorError(
                f"not anchoring: the sink's {name} is for log {last.origin}, not {cp.origin}"
            )
        if cp.size < last.size:
            raise AnchorError(
                f"not anchoring: the log has {cp.size} records but {name} anchors {last.size}: "
                f"{last.size - cp.size} record(s) were removed from the end (truncated)"
            )
        if cp.size == last.size:  # same size, another head (the same head returned early)
            raise AnchorError(
                f"not anchoring: record {cp.size} has hash {cp.head_hash[:16]}... but {name} "
                f"anchored {last.head_hash[:16]}...: the log was rewritten"
            )
        first = next(self.store.records(after_seq=last.size, limit=1), None)
        if first is None or first.seq != last.size + 1:
            # Sealed past the last checkpoint (retention) or a gap: the backend's own check
            # of the whole log (which knows about seal records) decides.
            self._check_whole(cp)
            return
        rows = _rows(self.store.records(after_seq=last.size, limit=cp.size - last.size))
        start = (last.size + 1, bytes.fromhex(last.head_hash))
        result = verify_rows(rows, checkpoint=cp, start=start)
        if not result.ok:
            raise AnchorError(
                f"not anchoring: the log does not continue from {name}: {result.describe()}"
            )

    def _check_whole(self, cp: Checkpoint) -> None:
        result: VerifyResult = self.store.verify(cp)
        if not result.ok:
            raise AnchorError(f"not anchoring a log that is not intact: {result.describe()}")

    def _failed(self, problem: str) -> None:
        problem = clean(problem, limit=500)
        self._failures += 1
        base, cap = self._retry
        delay = min(base * 2 ** min(self._failures - 1, 16), cap)
        self._retry_at = self.clock.now() + timedelta(seconds=delay)
        self._loaded = False  # read the sink again: someone may have fixed (or moved) it
        log.warning("checkpoint not written (attempt %d, retry in %.0f s): %s",
                    self._failures, delay, problem)  # fmt: skip
        if problem == self._reported:
            return
        self._reported = problem
        extra: dict[str, object] = {"attempt": self._failures, "retry_in_s": int(delay)}
        self._record("failed", problem, {**extra, "sink": self.sink.describe()})

    def _record(self, outcome: str, reason: str, extra: dict[str, object]) -> None:
        actor = self._actor
        if actor is None:
            from cockpit import __version__
            from cockpit.actions.identity import current_actor

            actor = self._actor = current_actor(__version__)
        event = AuditEvent(
            EventType.AUDIT_CHECKPOINT, actor, None, ACTION, outcome, reason=reason, extra=extra
        )
        try:
            self.store.append(event)
        except (CockpitError, OSError) as exc:
            log.warning("the anchor's audit record was not written: %s", clean(str(exc)))

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every `poll_seconds` until `stop` is set or the task is cancelled. Blocking
        work (the store, ssh-keygen, git) runs in a worker thread so the leader's event loop
        keeps serving; a cancel waits for the tick in flight, then ends the task."""
        while not stop.is_set():
            work = asyncio.ensure_future(asyncio.to_thread(self.tick))
            try:
                await asyncio.shield(work)
            except asyncio.CancelledError:
                # Let the tick in flight finish (bounded by the store's, ssh-keygen's and
                # git's timeouts): whoever cancelled may close the store next.
                with contextlib.suppress(Exception):
                    await work
                raise
            except Exception:  # a bug here must not take the controller down
                log.exception("checkpoint anchoring failed unexpectedly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_seconds)


def _own_record(head: AuditRecord, last: Checkpoint) -> bool:
    """Whether the head is only the anchorer's record of writing `last` (nothing new)."""
    return (
        head.seq == last.size + 1
        and head.event_type is EventType.AUDIT_CHECKPOINT
        and head.action == ACTION
        and head.outcome == "success"
        and head.extra.get("size") == last.size
        and head.extra.get("head_hash") == last.head_hash
    )


def _rows(records: Iterator[AuditRecord]) -> Iterator[Row]:
    for r in records:
        yield r.seq, bytes.fromhex(r.prev_hash), bytes.fromhex(r.hash), r.body


def from_config(
    cfg: CheckpointsConfig, store: AuditStore, clock: Clock, *, actor: Actor | None = None
) -> Anchorer | None:
    """The anchorer config's `checkpoints:` section asks for, None without one (what the
    controller's leader runs: `await anchorer.run(stop)`)."""
    if not cfg.enabled:
        return None
    from cockpit.audit.anchors import open_sink

    return Anchorer(
        store,
        open_sink(cfg),
        every_records=cfg.every_records,
        every_minutes=cfg.every_minutes,
        key=os.path.expanduser(cfg.key) if cfg.key else None,
        clock=clock,
        actor=actor,
    )
