"""The one backoff helper the hub, the Argo CD stream and the Kubernetes watch share."""

from __future__ import annotations

import asyncio
import random

from cockpit.backoff import Backoff


def test_each_failure_doubles_the_wait_up_to_the_cap_with_jitter_from_the_seeded_source() -> None:
    backoff = Backoff(10.0, cap=60.0, rng=random.Random(3))
    expected = random.Random(3)
    waits = [backoff.failed() for _ in range(5)]
    steps = [10.0, 20.0, 40.0, 60.0, 60.0]
    assert waits == [step * expected.uniform(0.5, 1.0) for step in steps]
    assert all(step / 2 <= wait <= step for wait, step in zip(waits, steps, strict=True))
    assert backoff.attempt == 5


def test_a_retry_after_is_the_least_the_wait_can_be() -> None:
    backoff = Backoff(1.0, rng=random.Random(0))
    assert backoff.failed(at_least=120.0) == 120.0


def test_a_success_starts_the_doubling_over() -> None:
    backoff = Backoff(1.0, cap=1000.0, rng=random.Random(0))
    for _ in range(6):
        backoff.failed()
    backoff.succeeded()
    assert backoff.attempt == 0
    assert backoff.failed() <= 1.0


def test_days_of_failures_keep_the_wait_at_the_cap_instead_of_overflowing() -> None:
    # A connector down for days at the 300 s cap passes a thousand failures: 2**1100 is
    # too big for a float, and the poll loop would die on OverflowError.
    backoff = Backoff(1.0, rng=random.Random(0))
    backoff.attempt = 1100
    assert 150.0 <= backoff.failed() <= 300.0


async def test_retry_now_ends_a_sleep_in_progress_and_starts_the_doubling_over() -> None:
    backoff = Backoff(1.0, rng=random.Random(0))
    for _ in range(4):
        backoff.next_attempt()
    sleeping = asyncio.create_task(backoff.sleep(3600.0))
    await asyncio.sleep(0)  # the sleep has begun
    backoff.retry_now()
    await asyncio.wait_for(sleeping, timeout=5)
    assert backoff.attempt == 0


async def test_a_retry_asked_before_the_sleep_does_not_cut_the_next_one_short() -> None:
    backoff = Backoff(1.0, rng=random.Random(0))
    backoff.retry_now()
    sleeping = asyncio.create_task(backoff.sleep(3600.0))
    await asyncio.sleep(0)
    assert not sleeping.done()
    sleeping.cancel()
    await asyncio.gather(sleeping, return_exceptions=True)
    assert sleeping.cancelled()


def test_jitter_spreads_the_retries_of_many_loops() -> None:
    backoff = Backoff(10.0, rng=random.Random(1))
    delays = {round(backoff.delay(3), 3) for _ in range(20)}
    assert len(delays) > 10, "jitter must spread retries"
    assert all(20.0 <= d <= 40.0 for d in delays)
