"""Concurrent fan-out for one poll: all or nothing, reporting the failure that explains most."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

from cockpit.errors import ConnectorError, RateLimited, Unauthorized

T = TypeVar("T")


async def gather(coros: Iterable[Awaitable[T]]) -> list[T]:
    """Run concurrently; on a failure cancel the rest and raise the most telling error.

    Unlike asyncio.gather, siblings of a failed request do not keep running (and spending
    rate limit) after the poll has already failed.
    """
    tasks: list[asyncio.Task[T]] = []
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_wrap(c)) for c in coros]
    except BaseExceptionGroup as failures:
        raise most_telling(failures) from None
    return [t.result() for t in tasks]


async def _wrap(aw: Awaitable[T]) -> T:
    return await aw


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


def most_telling(group: BaseExceptionGroup[BaseException]) -> BaseException:
    # A rate limit or a refused token explains every other failure of the same poll.
    leaves = _leaves(group)
    for kind in (RateLimited, Unauthorized, ConnectorError):
        for exc in leaves:
            if isinstance(exc, kind):
                return exc
    return leaves[0]
