"""The cyclic garbage collector held off while a command builds many objects that form no cycle:
around a long read (`paused_gc`), and while the cockpit starts, up to its first frame."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the block; reference counting still frees everything.

    CPython starts a collection after every few hundred new container objects, and a full
    one once enough of them survive; a 24 h timeline makes ~100,000 records, entries and
    changes, none in a cycle, and its two full passes over the heap took 0.1 s of its 1 s
    budget. A collector already off stays off; any cycle made meanwhile waits for the next
    collection after the block.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


SESSION_YOUNG = 20_000
"""New container objects between two young collections while the app runs (CPython: 700)."""


def for_session() -> tuple[int, int, int]:
    """A young collection after every 20,000 new containers instead of 700, for an app
    session; returns the thresholds before, for `restore`.

    Each poll of a large fleet makes a few big containers that live until the next poll (the
    run index and the cell map of its snapshot: 95,000 and 30,000 entries at 10,000 services)
    beside thousands of small objects. At 700, every poll starts ~15 young collections, and a
    big container is walked by a young and by a middle one while it lives: ~20 ms of a refresh
    at 10,000 services, ~470 ms of 610 at 50,000. At 20,000 a collection comes every ~2 polls
    there, and reference counting frees most of those containers before one walks them. A
    cycle waits longer to be freed: at most 20,000 new containers (more for a larger fleet,
    `fit_session`).
    """
    before = gc.get_threshold()
    gc.set_threshold(SESSION_YOUNG, *before[1:])
    return before


# Per pipeline run in the fleet, new containers between two young collections, up to this.
YOUNG_PER_RUN = 0.5
SESSION_YOUNG_MAX = 250_000


def young_for(runs: int) -> int:
    """The young threshold for a session over a fleet of `runs` pipeline runs.

    A poll makes new containers in proportion to the fleet (its changed runs, their stages,
    the index layers) and the big ones it makes live until the next poll: with a fixed
    threshold a larger fleet starts more young collections a poll, and each walks the big
    containers again (the demo's tuple of every run, 475,000 at 50,000 services: 40-60 ms a
    walk, ~30 ms of a refresh's mean there). Half a container per run keeps them to about
    one every few polls at any size (237,500 at 50,000 services: ~9 ms of the mean); 20,000
    below 40,000 runs, as `for_session` sets.
    """
    return min(max(SESSION_YOUNG, int(runs * YOUNG_PER_RUN)), SESSION_YOUNG_MAX)


def fit_session(runs: int) -> None:
    """Set the young threshold for a fleet of `runs` (after `for_session`), if it moved."""
    young = young_for(runs)
    threshold = gc.get_threshold()
    if threshold[0] != young:
        gc.set_threshold(young, *threshold[1:])


def restore(thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(*thresholds)


_held_for_start = False


def hold_for_start() -> None:
    """No cyclic collection while the cockpit starts: imports, settings and the first frame.

    Start-up makes tens of thousands of long-lived objects (modules, classes, the first
    snapshot), and each full pass of the collector over them, several while they are made,
    delays the first frame (~20 ms of CPU on plain `cockpit`). `started` ends the hold.
    """
    global _held_for_start
    if gc.isenabled():
        gc.disable()
        _held_for_start = True


def started() -> None:
    """The first frame is up: collect start-up's garbage once, then freeze the survivors.

    Frozen objects (`gc.freeze`) are left out of every later collection, so the session's
    full passes walk only what it made since, and are shorter. Reference counting still
    frees them. Does nothing unless `hold_for_start` held the collector off.
    """
    global _held_for_start
    if not _held_for_start:
        return
    _held_for_start = False
    gc.collect()
    gc.freeze()
    gc.enable()
