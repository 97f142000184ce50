"""Selecting ranked differences ends, even if the pair counts were ever wrong."""

from __future__ import annotations

import numpy as np
import pytest

from cockpit.judge.grouped import pair_counter
from cockpit.judge.selection import hodges_lehmann
from cockpit.judge.shift import ShiftCounter


@pytest.mark.timeout(20)
def test_counts_that_disagree_raise_instead_of_widening_forever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(7)
    xs = np.sort(rng.lognormal(3, 0.25, 300))
    ys = np.sort(rng.lognormal(3, 0.25, 300))
    counter = pair_counter(xs, ys)
    assert isinstance(counter, ShiftCounter)
    expected = float(np.median(np.subtract.outer(xs, ys)))
    assert hodges_lehmann(pair_counter(xs, ys)) == pytest.approx(expected, rel=1e-12)
    # A counter that loses the undecided pairs: no bracket can ever hold the ranks.
    monkeypatch.setattr(ShiftCounter, "differences", lambda self, *a, **k: np.empty(0))
    with pytest.raises(ArithmeticError, match="counts disagree"):
        hodges_lehmann(counter)
