"""The random draws of the demo fleet's start, fast where the install built them in C.

`Fleet`'s build draws its whole world from one seeded `random.Random`, and its content is
pinned by that order (the tests' expectations, the SVG snapshots). At 10,000 services the
history alone is ~1.6 million draws, half a second from Python. `drawing(rng)` hands the
build a stream with the few kinds of draw it makes: from `_draws.c` (setup.py; optional),
which runs `Random`'s own generator from `rng.getstate()` and puts the state back after,
or from `rng` itself. Both give the same numbers, and leave `rng` in the same state
(tests/unit/test_demo_draws.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from connectors.demo import _draws

_CStream: type[_draws.Stream] | None
try:
    from connectors.demo._draws import Stream as _CStream
except ImportError:  # built without a C compiler: the draws come from `Random` itself
    _CStream = None


class Stream(Protocol):
    def below(self, n: int, /) -> int: ...

    def random(self) -> float: ...

    def runs(
        self, count: int, minutes: int, authors: int, messages: int, fails: tuple[float, ...], /
    ) -> tuple[tuple[int, ...], list[int]]: ...


def available() -> bool:
    """Whether the C draws were built with this install."""
    return _CStream is not None


@contextmanager
def drawing(rng: random.Random) -> Iterator[Stream]:
    """A stream of `rng`'s next draws; on leaving, `rng` stands after the last of them.
    Nothing else may draw from `rng` meanwhile."""
    if _CStream is None:
        yield RandomStream(rng)
        return
    version, state, gauss = rng.getstate()
    stream = _CStream(state)
    try:
        yield stream
    finally:
        rng.setstate((version, stream.state(), gauss))


class RandomStream:
    """The draws straight from a `Random`: what `_draws.Stream` does in C, in Python."""

    def __init__(self, rng: random.Random) -> None:
        self._bits = rng.getrandbits
        self.random = rng.random

    def below(self, n: int, /) -> int:
        """rng.randrange(n), as CPython's Random draws it: n.bit_length() bits, drawn
        again while >= n."""
        k = n.bit_length()
        r = self._bits(k)
        while r >= n:
            r = self._bits(k)
        return r

    def runs(
        self, count: int, minutes: int, authors: int, messages: int, fails: tuple[float, ...], /
    ) -> tuple[tuple[int, ...], list[int]]:
        """`count` finished runs, each packed into one number (see sim_history's `Unread`):
        randrange(minutes), randrange(authors) << 4, randrange(messages) << 8, then the
        stage it fails at + 1 (0: none) << 12, picked by one random() against `fails`, then
        randrange(8) << 15 + 3 * k for each stage k run. And the indices of those that
        failed nowhere."""
        below, bits = self.below, self._bits
        words = []
        succeeded = []
        for i in range(count):
            word = below(minutes)
            word |= below(authors) << 4 | below(messages) << 8
            roll = self.random()
            fail_at = -1
            for idx, p_fail in enumerate(fails):
                if roll < p_fail:
                    fail_at = idx
                    break
                roll -= p_fail
            word |= (fail_at + 1) << 12
            shift = 15
            for _ in range(len(fails) if fail_at < 0 else fail_at + 1):
                r = bits(4)  # randrange(8): 4 bits, again while >= 8
                while r >= 8:
                    r = bits(4)
                word |= r << shift
                shift += 3
            words.append(word)
            if fail_at < 0:
                succeeded.append(i)
        return tuple(words), succeeded
