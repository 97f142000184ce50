"""The app's stylesheet re-parses when its CSS or theme changes, and not for the same CSS."""

from __future__ import annotations

import pytest
from textual.css import stylesheet as textual_stylesheet
from textual.css.stylesheet import Stylesheet

from screens.stylesheet import KeptStylesheet
from tests.app.helpers import demo_app

CSS = "Screen { background: $accent; }"


def _kept(accent: str) -> KeptStylesheet:
    sheet = KeptStylesheet.like(Stylesheet(variables={"accent": accent}))
    sheet.add_source(CSS, read_from=("test.tcss", ""))
    return sheet


def _background(sheet: Stylesheet) -> str:
    (rule,) = sheet.rules
    return str(rule.styles.background)


def test_the_same_sources_and_variables_keep_the_parsed_rules() -> None:
    sheet = _kept("#112233")
    rules = sheet.rules
    sheet.set_variables({"accent": "#112233"})  # as App.refresh_css does, values unchanged
    sheet.reparse()
    assert sheet.rules is rules


def test_setting_the_same_variables_keeps_each_sources_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # App.refresh_css sets the variables again; the next widget's CSS then needs only its own
    # parse, not one of every source already parsed (Textual empties its cache on any set).
    sheet = _kept("#112233")
    assert _background(sheet)
    parsed: list[object] = []
    parse = textual_stylesheet.parse

    def counting(scope: str, css: str, read_from: object, **kw: object) -> object:
        parsed.append(read_from)
        return parse(scope, css, read_from, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(textual_stylesheet, "parse", counting)
    sheet.set_variables({"accent": "#112233"})
    sheet.add_source("Label { color: red; }", read_from=("more.tcss", ""))
    sheet.parse()
    assert parsed == [("more.tcss", "")]
    assert len(sheet.rules) == 2


def test_new_variables_or_a_new_source_parse_again() -> None:
    sheet = _kept("#112233")
    before = _background(sheet)
    sheet.set_variables({"accent": "#445566"})
    sheet.reparse()
    assert _background(sheet) != before and "68" in _background(sheet)  # 0x44 = 68
    sheet.add_source("Label { color: red; }", read_from=("more.tcss", ""))
    sheet.reparse()
    assert len(sheet.rules) == 2


async def test_a_theme_change_still_restyles_the_running_app() -> None:
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.stylesheet, KeptStylesheet)
        before = app.screen.styles.background
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        assert app.screen.styles.background != before
