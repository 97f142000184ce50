"""Jittered exponential backoff for a loop that retries: the hub's polls and the streams' reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import random

MAX_BACKOFF = 300.0
# 2**30 base steps exceed any cap; past it the power would overflow a float (after about a
# thousand failures, three days of a connector down at the 300 s cap).
_MAX_DOUBLINGS = 30


class Backoff:
    """How long one retrying loop waits: `base` doubling per failure up to `cap`, jittered.

    The jitter (half to all of the step, drawn from `rng`) keeps many cockpits, or many
    connectors, from retrying in lock-step. A success starts the doubling over; so does
    `retry_now()` (the operator's ctrl+r), which also ends a `sleep()` in progress.
    """

    def __init__(
        self, base: float, cap: float = MAX_BACKOFF, *, rng: random.Random | None = None
    ) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng or random.Random()
        self.attempt = 0  # failures since the last success or retry_now()
        self._retry: asyncio.Event | None = None  # made in the loop that sleeps

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry `attempt` (1 is the first retry: about `base`)."""
        doublings = min(max(attempt - 1, 0), _MAX_DOUBLINGS)
        return min(self.cap, self.base * 2**doublings) * self.rng.uniform(0.5, 1.0)

    def next_attempt(self) -> int:
        """Count one more failure; returns the retry it waits for."""
        self.attempt += 1
        return self.attempt

    def failed(self, at_least: float = 0.0) -> float:
        """Count a failure and return the wait, never shorter than `at_least` (a Retry-After)."""
        return max(self.delay(self.next_attempt()), at_least)

    def succeeded(self) -> None:
        self.attempt = 0

    def retry_now(self) -> None:
        """Start the doubling over and end the current `sleep()` at once."""
        self.attempt = 0
        if self._retry is not None:
            self._retry.set()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or until `retry_now()`; a cancel is never lost."""
        self._retry = self._retry or asyncio.Event()
        self._retry.clear()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
        # lands as its inner wait completes.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._retry.wait()
