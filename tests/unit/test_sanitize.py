"""Untrusted text stays inert: no terminal control, no markup, no clickable actions."""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from cockpit.sanitize import clean, first_line, inert, literal_markup
from screens.widgets import txt

NASTY = [
    "\x1b[2J\x1b[H APPROVED",  # clear screen and home: fake a verdict
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52 clipboard write
    "\x1b]0;owned\x07",  # window title
    "\x9b31m",  # C1 CSI
    "\x90payload\x9c",  # DCS ... ST
    "abc\rAPPROVED",  # carriage return overwrite
    "user\u202egnp.exe",  # right-to-left override
    "[@click=app.quit]see details[/]",
    "[link=https://evil.example]docs[/link]",
    "[bold red]FAKE APPROVED[/]",
    "[/]",  # would raise MarkupError if parsed
]
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def rendered(value: str) -> tuple[str, list[str]]:
    console = Console(width=200, color_system=None, force_terminal=False, record=True)
    text = txt(value)
    segments = list(text.render(console))
    styles = [str(s.style) for s in segments if s.style]
    return "".join(s.text for s in segments), styles


def test_known_attacks_become_visible_and_inert() -> None:
    for value in NASTY:
        out = clean(value)
        assert not FORBIDDEN.search(out), repr(out)
    assert clean("\x1b[2J") == "^[[2J"
    assert clean("\x9b") == "\\x9b"
    assert clean("a\u202eb") == "a<U+202E>b"
    assert clean("a\rb") == "a^Mb"
    assert clean("tab\there") == "tab    here"
    assert clean("two\nlines") == "two^Jlines"
    assert clean("two\nlines", multiline=True) == "two\nlines"


def test_markup_in_data_is_shown_literally_never_parsed() -> None:
    for value in (
        "[@click=app.quit]see details[/]",
        "[link=https://evil.example]docs[/link]",
        "[/]",
    ):
        text, styles = rendered(value)
        assert text == value
        assert not any("click" in s or "link" in s for s in styles)


def test_first_line_and_limit() -> None:
    assert first_line("Fix bug\n\nLong body\x1b[31m") == "Fix bug"
    assert clean("x" * 50, limit=10) == "x" * 9 + "…"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=12),
            st.sampled_from(NASTY),
            st.sampled_from(
                [
                    "\x1b",
                    "\x9b",
                    "\x07",
                    "\x1b]8;;",
                    "]8;;",
                    "\u202e",
                    "\x85",
                    "\x00",
                    "[",
                    "]",
                    "[/",
                    "@click=",
                ]
            ),
        ),
        max_size=8,
    ).map("".join)
)
def test_property_rendered_output_has_no_control_bytes_or_data_spans(value: str) -> None:
    text, styles = rendered(value)
    assert not FORBIDDEN.search(text)
    assert styles == [] or all("click" not in s and "link" not in s for s in styles)
    # The visible text is exactly the cleaned text: nothing swallowed or added.
    assert text == clean(value).replace("\n", "")


def test_markup_variables_in_content_are_not_parsed() -> None:
    text = Text.assemble("pipeline ", txt("[bold]x[/bold] \x1b[31m"))
    assert text.plain == "pipeline [bold]x[/bold] ^[[31m"
    assert not text.spans or all("bold" not in str(s.style) for s in text.spans[1:])


def test_literal_markup_shows_every_bracket_literally_in_textual_markup() -> None:
    from textual.content import Content

    for value in [*NASTY, "[$accent]x[/]", "[B]x[/B]", "a\\", "\\[b]x", "[[b]]"]:
        content = Content.from_markup(literal_markup(value))
        assert content.plain == clean(value, multiline=True)
        assert not content.spans


async def test_hub_makes_connector_text_inert_where_it_enters_the_snapshot() -> None:
    from cockpit.clock import FixedClock
    from cockpit.config import ConnectorSpec
    from cockpit.fleet.hub import Hub
    from cockpit.model import Environment
    from tests.app.helpers import T0
    from tests.fakes import ScriptedConnector, ScriptOptions

    hostile = "svc\x1b[2J\u202e"
    options = ScriptOptions(services=[hostile, "web"], version="1.0\x9b31m")
    spec = ConnectorSpec("s", "scripted", ScriptedConnector, options, 10, 1, 30)
    hub = Hub([spec], (Environment("prod", 0, True),), clock=FixedClock(T0))
    snap = await hub.refresh()
    assert snap.services == ("svc^[[2J<U+202E>", "web")
    assert snap.cell("svc^[[2J<U+202E>", "prod").deployment.version == "1.0\\x9b31m"  # type: ignore[union-attr]


def test_inert_keeps_clean_objects_as_they_are_and_newlines_in_messages() -> None:
    from datetime import timedelta

    from cockpit.model import Observation, PipelineRun, Stage, Status
    from tests.app.helpers import T0

    run = PipelineRun(
        id="1",
        service="web",
        pipeline="ci",
        number=1,
        status=Status.FAILED,
        stages=(Stage("build", Status.FAILED),),
        author="ann",
        commit="abc1234",
        message="fix: thing\n\nbody",
        branch="main",
        queued_at=T0 - timedelta(minutes=1),
        source="s",
        observed_at=T0,
    )
    obs = Observation("s", T0, runs=(run,))
    assert inert(obs) is obs  # nothing to clean: the snapshot can reuse it by identity
    dirty = Observation("s", T0, runs=(run, replace(run, id="2", author="x\x1b]52;c;ZQ==\x07")))
    cleaned = inert(dirty)
    assert cleaned.runs[0] is run and cleaned.runs[1].author == "x^[]52;c;ZQ==^G"
    assert cleaned.runs[1].message == "fix: thing\n\nbody"


def test_the_hubs_memo_cleans_what_is_new_in_each_poll_and_reuses_the_rest() -> None:
    """The hub cleans each poll through InertMemo: an item seen in the previous poll reuses
    its cleaned form (no walk), a new or changed item is cleaned, hostile or not."""
    from datetime import timedelta

    from cockpit.model import MetricSeries, Observation, PipelineRun, Stage, Status
    from cockpit.sanitize import InertMemo
    from tests.app.helpers import T0

    def run(n: int, author: str) -> PipelineRun:
        return PipelineRun(
            str(n), "web", "ci", n, Status.RUNNING, (Stage("build", Status.RUNNING),),
            author, "abc1234", "msg", "main", T0 - timedelta(minutes=1), "s", T0,
        )  # fmt: skip

    memo = InertMemo()
    clean_run, hostile = run(1, "ann"), run(2, "eve\x1b[2J")
    first = memo(Observation("s", T0, runs=(clean_run, hostile)))
    assert first.runs[0] is clean_run and first.runs[1].author == "eve^[[2J"
    # Same objects again: the cleaned copy of the hostile run is reused, not rebuilt.
    second = memo(Observation("s", T0, runs=(clean_run, hostile)))
    assert second.runs[1] is first.runs[1]
    # A changed (new) object is cleaned even though an equal-looking one was seen.
    changed = replace(hostile, author="mallory\u202e")
    third = memo(Observation("s", T0, runs=(clean_run, changed)))
    assert third.runs[1].author == "mallory<U+202E>"
    # Fields typed as numbers are skipped, text fields never are: a metric's name is cleaned.
    series = MetricSeries("err\x1b", "%", (T0,), (1.0,), (2.0,))
    assert inert(series).name == "err^["
