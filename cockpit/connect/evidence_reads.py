"""The evidence reads a connector keeps between polls, written once for every connector.

A connector plans its reads each poll (`Planned`: a key, the read, the labels of its
documents); `KeptReads` decides which to run and keeps what they found:
- a **final** answer (a finished run's artifacts, a found attestation, a published report)
  is never read again while its key is planned; it goes when the key is no longer planned;
- anything that may change, found nothing yet, or failed is read again after RETRY;
- at most `per_poll` reads start in one poll, in plan order (put what matters first);
- a poll waits `wait` seconds for its reads (None: for all, as a one-shot refresh does);
  slower ones go on in the background, so a big download cannot make the whole poll time
  out and then start over, and `on_late` asks for a poll when the last of them is done;
- a read that raises, whatever it raises, becomes a document with its problem (redacted,
  cleaned) for each kind of evidence it was for: the gate is unknown and says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from cockpit.clock import Clock
from cockpit.errors import ConnectorError
from cockpit.evidence_model import Evidence, EvidenceKind
from cockpit.sanitize import clean

RETRY = 300.0  # seconds before a read that failed, found nothing or may change is redone

Make = Callable[..., Evidence]  # (kind, media_type, body, **labels) -> Evidence
Read = Callable[[Make], Awaitable[tuple[list[Evidence], bool]]]  # -> documents, final


@dataclass(frozen=True)
class Planned:
    """One read a poll wants done (or its kept answer reported)."""

    key: Hashable
    read: Read
    service: str
    version: str
    kinds: tuple[EvidenceKind, ...]  # the gates a failure leaves without evidence
    where: str  # names the read in a problem document's ref
    labels: Mapping[str, Any] = field(default_factory=dict)  # subject, run_id, attempt


@dataclass(frozen=True)
class _Kept:
    docs: tuple[Evidence, ...]
    at: datetime
    final: bool


class KeptReads:
    """Runs and remembers one connector's evidence reads (see the module docstring)."""

    def __init__(
        self,
        source: str,
        clock: Clock,
        redact: Callable[[str], str],
        *,
        per_poll: int | None = None,
    ) -> None:
        self.source = source
        self.clock = clock
        self.redact = redact
        self.per_poll = per_poll
        self.wait: float | None = None
        self.on_late: Callable[[], None] = lambda: None
        self._kept: dict[Hashable, _Kept] = {}
        self._running: dict[Hashable, asyncio.Task[None]] = {}
        self._late: set[Hashable] = set()

    async def read(self, plan: Sequence[Planned]) -> tuple[Evidence, ...]:
        """Every kept document of `plan`, after this poll's share of reads."""
        started = self.clock.now()
        due = [
            p
            for p in plan
            if p.key not in self._running
            and (
                (kept := self._kept.get(p.key)) is None
                or (not kept.final and (started - kept.at).total_seconds() >= RETRY)
            )
        ]
        if self.per_poll is not None:
            due = due[: max(0, self.per_poll - len(self._running))]
        for p in due:
            task = asyncio.create_task(self._read(p, started))
            self._running[p.key] = task
            task.add_done_callback(partial(self._done, p.key))
        waiting = {self._running[p.key] for p in plan if p.key in self._running}
        if waiting:
            _, pending = await asyncio.wait(waiting, timeout=self.wait)
            self._late |= {key for key, task in self._running.items() if task in pending}
        planned = {p.key for p in plan}
        for key in [k for k in self._kept if k not in planned]:
            del self._kept[key]  # no longer watched: its documents go
        now = self.clock.now()
        out: list[Evidence] = []
        for p in plan:
            kept = self._kept.get(p.key)
            if kept is not None:
                # A final answer does not change: this poll confirms it still applies.
                out += [replace(e, observed_at=now) if kept.final else e for e in kept.docs]
        return tuple(out)

    async def aclose(self) -> None:
        """Stop the reads still running in the background."""
        tasks = list(self._running.values())
        self._late.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _done(self, key: Hashable, task: asyncio.Task[None]) -> None:
        self._running.pop(key, None)
        if key in self._late:
            self._late.discard(key)
            if not self._late and not task.cancelled():
                self.on_late()

    async def _read(self, p: Planned, started: datetime) -> None:
        def make(kind: EvidenceKind, media: str, body: bytes, **labels: Any) -> Evidence:
            return Evidence(
                kind,
                p.service,
                p.version,
                self.source,
                started,
                media,
                body,
                **{**p.labels, **labels},
            )

        try:
            docs, final = await p.read(make)
        except Exception as exc:  # any failure, however odd the answer: a problem, not a pass
            text = str(exc) if isinstance(exc, ConnectorError | ValueError) else ""
            why = clean(self.redact(text), limit=300) or f"unusable answer ({type(exc).__name__})"
            where = clean(p.where, limit=200)
            docs = [make(kind, "", b"", ref=where, problem=why) for kind in p.kinds]
            final = False
        self._kept[p.key] = _Kept(tuple(docs), started, final)
