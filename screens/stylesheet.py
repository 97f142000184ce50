"""A stylesheet that re-parses only when its sources or variables changed.

Textual's `App.refresh_css` sets the CSS variables again, which empties the stylesheet's
parse cache, and re-parses every source into a fresh stylesheet (no parse cache). A first
`switch_mode` to a screen from `MODES` calls it although neither the sources nor the
variables changed since the parse a moment before: ~5 ms of start-up for the same rules,
and ~2 ms more when the next widget's CSS arrives and every source is parsed again. A theme
change, a new source (a screen's own CSS, a widget's default CSS) or any variable that
differs still re-parses.
"""

from __future__ import annotations

from typing import Any

from textual.css.stylesheet import Stylesheet


class KeptStylesheet(Stylesheet):
    """Keeps its rules through `reparse()` when the inputs of the last parse are unchanged."""

    _parsed_from: tuple[dict[Any, Any], dict[str, str]] | None = None

    @classmethod
    def like(cls, sheet: Stylesheet) -> KeptStylesheet:
        """A kept stylesheet with `sheet`'s variables and sources (not yet parsed)."""
        kept = cls(variables=dict(sheet._variables))
        kept.source = dict(sheet.source)
        kept._require_parse = True
        return kept

    def set_variables(self, variables: dict[str, str]) -> None:
        if variables == self._variables:
            return  # the same variables: the rules and styles parsed with them still hold
        super().set_variables(variables)

    def parse(self) -> None:
        super().parse()
        self._parsed_from = (dict(self.source), dict(self._variables))

    def reparse(self) -> None:
        if self._parsed_from == (self.source, self._variables):
            return  # the same sources and variables give the same rules
        super().reparse()
        self._parsed_from = (dict(self.source), dict(self._variables))
