"""How a table's columns share the width: which drop, which shrink (screens/table.py)."""

from __future__ import annotations

from collections.abc import Sequence

Column = tuple[str, str, int | None]  # key, label, fixed width (None: fit the content)
PAD = 1
# A content-fitted column (a message, a reason) is worth keeping only with this much room:
# below it, the next optional column drops instead.
FLEX_MIN = 16
SHRINK_MIN = 3  # no column is cut narrower than "a…"


def fit_columns(
    widths: Sequence[int], flexible: Sequence[bool], optional: Sequence[int], room: int
) -> list[tuple[int, int]]:
    """(column index, width) of the columns shown in `room` cells.

    Optional columns drop, in the order given, until the rest fit with each flexible column
    at FLEX_MIN; only then do the widest columns shrink (cut with an ellipsis when drawn).
    """
    shown = list(range(len(widths)))

    def least(i: int) -> int:
        return min(widths[i], FLEX_MIN) if flexible[i] else widths[i]

    drops = [i for i in optional if i in shown]
    while drops and sum(least(i) + 2 * PAD for i in shown) > room:
        shown.remove(drops.pop(0))
    out = {i: widths[i] for i in shown}
    excess = sum(w + 2 * PAD for w in out.values()) - room
    while excess > 0:
        # The widest shrinks first; on a tie the rightmost, where the free text usually is.
        widest = max(reversed(shown), key=out.__getitem__)
        if out[widest] <= SHRINK_MIN:
            break  # still too wide: the table scrolls sideways
        out[widest] -= 1
        excess -= 1
    return [(i, out[i]) for i in shown]
