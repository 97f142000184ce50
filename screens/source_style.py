"""How a source's state looks wherever it is shown: the top bar's counts (`screens.widgets`)
and the sources panel (`screens.sources`), which tells a failing source from one that does
not answer at all."""

from __future__ import annotations

# label -> (glyph, style) in the top bar
SOURCE_STYLE = {
    "ok": ("✓", "green"),
    "error": ("✗", "red bold"),
    "stale": ("⚠", "yellow bold"),
    "connecting": ("…", "dim"),
    "reading": ("…", "yellow"),  # answered, still reading the rest (the demo's history)
}

# the sources panel's words: an error is either failing (an answer) or unreachable (none)
STATE_STYLE = {
    "ok": SOURCE_STYLE["ok"],
    "failing": SOURCE_STYLE["error"],
    "unreachable": SOURCE_STYLE["error"],
    "stale": SOURCE_STYLE["stale"],
    "connecting": SOURCE_STYLE["connecting"],
    "reading": SOURCE_STYLE["reading"],
}
