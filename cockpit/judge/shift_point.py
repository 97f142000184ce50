"""The counts a shift counter keeps for one shift mu (`cockpit.judge.shift`, `.grouped`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]


@dataclass(slots=True)
class ShiftPoint:
    """Counts at one shift mu."""

    sum_low: int  # pairs with a baseline value below x - mu
    sum_high: int  # ... at or below x - mu
    ties: float  # sum of t^3 - t over tie groups of (x - mu) joined with y
    low: Counts | None = None  # per canary point, when counted point by point
    high: Counts | None = None

    @property
    def u(self) -> float:
        """Pairs with x - mu above y, ties counting one half."""
        return (self.sum_low + self.sum_high) / 2
