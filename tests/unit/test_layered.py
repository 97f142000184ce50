"""cockpit.fleet.layered: every version reads as the dict the same updates give, and an
older version reads as it did after newer ones were made (snapshots stay as published)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.fleet.cells import copied
from cockpit.fleet.layered import Layered

KEYS = st.sampled_from([f"r{i}" for i in range(40)])
VALUES = st.integers(0, 5).map(lambda i: (f"v{i}",))  # tuples: compared by identity too
STEP = st.tuples(st.lists(st.tuples(KEYS, VALUES), max_size=12), st.lists(KEYS, max_size=12))


def _reads_as(layered: Layered[str, object], want: dict[str, object]) -> None:
    assert len(layered) == len(want)
    assert sorted(layered) == sorted(want)
    assert dict(layered.items()) == want and len(layered.items()) == len(want)
    assert sorted(map(repr, layered.values())) == sorted(map(repr, want.values()))
    assert layered == want and copied(layered) == want
    for key in [f"r{i}" for i in range(40)]:
        assert (key in layered) == (key in want)
        assert layered.get(key, "none") == want.get(key, "none")
        if key in want:
            assert layered[key] is want[key]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(KEYS, VALUES), st.lists(STEP, max_size=20))
def test_versions_read_as_the_dict_the_same_updates_give(
    start: dict[str, object], steps: list[tuple[list[tuple[str, object]], list[str]]]
) -> None:
    versions = [(Layered(dict(start)), dict(start))]
    for added, dropped in steps:
        layered, plain = versions[-1]
        # Removal names the value it expects: one whose key now maps elsewhere stays.
        removed = [
            (k, plain[k] if i % 2 == 0 else ("other",)) for i, k in enumerate(dropped) if k in plain
        ]
        want = dict(plain)
        for key, value in removed:
            if want.get(key) is value:
                del want[key]
        for key, value in added:
            want[key] = value
        versions.append((layered.updated(removed, added), want))
    for layered, want in versions:  # the older ones too, after every newer one was made
        _reads_as(layered, want)


def test_a_long_run_of_small_updates_folds_and_still_reads_right() -> None:
    base = {f"r{i}": (i,) for i in range(1000)}
    layered, want = Layered(dict(base)), dict(base)
    for n in range(300):
        key, value = f"r{(n * 7) % 1200}", (n,)
        gone = f"r{(n * 13) % 1000}"
        removed = [(gone, want[gone])] if gone in want else []
        layered = layered.updated(removed, [(key, value)])
        for k, _ in removed:
            del want[k]
        want[key] = value
    assert len(layered._top) * 16 <= len(layered._base) + 256  # folded along the way
    _reads_as(layered, want)
