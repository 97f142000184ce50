"""The demo's start draws (connectors/demo/draws.py) are `random.Random`'s, draw for draw,
whether from the C stream (connectors/demo/_draws.c) or from `Random` itself, and leave the
generator where `Random` would.

The C module is optional (setup.py): a developer's machine without a C compiler installs
without it and the tests of it skip, saying so; under CI=true, where `.ci/run` installs a
compiler, a missing module fails them instead.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.demo import draws, sim_history
from connectors.demo.sim import Fleet
from tests.binaries import built

if TYPE_CHECKING:
    from connectors.demo._draws import Stream as CStream

FAIL = sim_history._FAIL
T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def c_stream() -> type[CStream]:
    """The built class; skip without it, fail under CI=true."""
    built("connectors.demo._draws", draws.available())
    assert draws._CStream is not None
    return draws._CStream


# n at the edges of a bit length (rejection rates from 0 to nearly a half) and the widest.
EDGES = [1, 2, 3, 7, 8, 9, 10, 12, 16, 17, 100, 235, 800, 1000, 2**31 - 1, 2**31, 2**32 - 1]


def test_the_python_stream_draws_randranges() -> None:
    ours, theirs = random.Random(5), random.Random(5)
    stream = draws.RandomStream(ours)
    for n in EDGES * 30:
        assert stream.below(n) == theirs.randrange(n)
        assert stream.random() == theirs.random()
    assert ours.getstate() == theirs.getstate()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**64), ns=st.lists(st.integers(1, 2**32 - 1), max_size=300))
def test_the_c_stream_draws_what_random_draws(
    c_stream: type[CStream], seed: int, ns: list[int]
) -> None:
    ours, theirs = random.Random(seed), random.Random(seed)
    with draws.drawing(ours) as stream:
        assert isinstance(stream, c_stream)
        for n in ns + EDGES:
            assert stream.below(n) == theirs.randrange(n)
            assert stream.random() == theirs.random()
    assert ours.getstate() == theirs.getstate()  # set back after the stream


def test_the_c_stream_takes_the_state_mid_block_and_across_twists(
    c_stream: type[CStream],
) -> None:
    """The generator makes 624 words at a time: a stream started at any point of a block,
    and drawing across many, matches."""
    for skip in (0, 1, 311, 623, 624, 625, 1500):
        ours, theirs = random.Random(skip), random.Random(skip)
        ours.getrandbits(32 * skip), theirs.getrandbits(32 * skip)
        stream = c_stream(ours.getstate()[1])
        got = [stream.below(2**32 - 1) for _ in range(2000)]
        assert got == [theirs.randrange(2**32 - 1) for _ in range(2000)]
        assert stream.state() == theirs.getstate()[1]


@pytest.mark.parametrize("seed", [0, 7, 11, 2**40 + 3])
@pytest.mark.parametrize("count", [0, 1, 9, 400])
def test_c_runs_are_the_python_runs(c_stream: type[CStream], seed: int, count: int) -> None:
    ours, theirs = random.Random(seed), random.Random(seed)
    with draws.drawing(ours) as stream:
        got = stream.runs(count, 10, 10, 12, FAIL)
    want = draws.RandomStream(theirs).runs(count, 10, 10, 12, FAIL)
    assert got == want
    assert ours.getstate() == theirs.getstate()
    if count == 400:  # every packed field takes more than one value
        words, succeeded = got
        assert 0 < len(succeeded) < count
        assert {w >> 12 & 7 for w in words} >= {0, 1, 2}  # none failed, build, test
        assert len({w & 15 for w in words}) == 10 and len({w >> 8 & 15 for w in words}) == 12


def test_c_runs_fail_where_the_roll_falls(c_stream: type[CStream]) -> None:
    """Certain failures: a run fails at the first stage whose probability holds the roll."""
    for fails, stage in [((1.0,), 1), ((0.0, 1.0, 0.0), 2), ((0.0,) * 6 + (1.0,), 7)]:
        ours, theirs = random.Random(3), random.Random(3)
        got = c_stream(ours.getstate()[1]).runs(50, 16, 1, 16, fails)
        assert got == draws.RandomStream(theirs).runs(50, 16, 1, 16, fails)
        assert got[1] == [] and {w >> 12 & 7 for w in got[0]} == {stage}
        assert all(w >> (15 + 3 * stage) == 0 for w in got[0])  # no stage after it ran


def test_a_roll_equal_to_a_stage_probability_passes_that_stage(
    c_stream: type[CStream],
) -> None:
    """`roll < p`, as the Python loop compares: a roll exactly at a stage's probability
    goes on to the next stage."""
    rng = random.Random(3)
    rng.randrange(16), rng.randrange(1), rng.randrange(16)  # a run's draws before its roll
    fails = (rng.random(), 1.0)
    got = c_stream(random.Random(3).getstate()[1]).runs(1, 16, 1, 16, fails)
    assert got == draws.RandomStream(random.Random(3)).runs(1, 16, 1, 16, fails)
    assert got[0][0] >> 12 & 7 == 2


def test_a_fleet_drawn_in_c_is_the_fleet_drawn_through_random(
    c_stream: type[CStream], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fleet() -> Fleet:
        return Fleet(
            seed=7, services=300, environments=("dev", "staging", "prod"), start=T0, source="demo"
        )

    fast = fleet()
    monkeypatch.setattr(draws, "_CStream", None)
    slow = fleet()
    assert fast.rng.getstate() == slow.rng.getstate()
    assert fast.runs == slow.runs and list(fast.runs) == list(slow.runs)
    assert fast.deployments == slow.deployments
    assert (fast.latest_version, fast.run_numbers) == (slow.latest_version, slow.run_numbers)
    assert fast.next_commit == slow.next_commit
    assert [r.id for r in fast.history.read_all()] == [r.id for r in slow.history.read_all()]
    assert fast.runs == slow.runs


def fresh(c_stream: type[CStream]) -> CStream:
    return c_stream(random.Random(1).getstate()[1])


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda m: m(random.Random(1).getstate()[1][:-1]), ValueError),
        (lambda m: m((0,) * 624 + (625,)), ValueError),  # index past the block
        (lambda m: m((2**32,) + (0,) * 624), ValueError),
        (lambda m: m((-1,) + (0,) * 624), OverflowError),
        (lambda m: m(list(random.Random(1).getstate()[1])), TypeError),
        (lambda m: fresh(m).below(0), ValueError),
        (lambda m: fresh(m).below(2**32), ValueError),
        (lambda m: fresh(m).runs(1, 17, 1, 1, FAIL), ValueError),
        (lambda m: fresh(m).runs(1, 1, 1, 1, (0.1,) * 8), ValueError),
        (lambda m: fresh(m).runs(1, 1, 1, 1, ("x",)), TypeError),  # type: ignore[arg-type]
        (lambda m: fresh(m).runs(-1, 1, 1, 1, FAIL), ValueError),
    ],
)
def test_the_c_stream_refuses_what_random_would_not_take(
    c_stream: type[CStream], make: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        make(c_stream)  # type: ignore[operator]
