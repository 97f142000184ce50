"""The shortcuts that skip a regex for text already safe give what the full treatment gives."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from cockpit import sanitize
from cockpit.incident.render import stamp
from cockpit.model import PipelineRun, Stage, Status
from cockpit.sanitize import clean, one_line

# Text with what matters here drawn often: controls, bidi, separators, runs of spaces.
TEXT = st.text(
    st.one_of(
        st.characters(),
        st.sampled_from(" \t\n\r\x1b\x9b\u200b\u202e\u2028\u00a0\u3000→é"),
    ),
    max_size=12,
)


@given(TEXT)
def test_clean_gives_what_its_patterns_give_whether_or_not_it_takes_the_shortcut(
    text: str,
) -> None:
    one = sanitize._unsafe(False).sub(sanitize._visible, text.replace("\t", "    "))
    many = sanitize._unsafe(True).sub(sanitize._visible, text.replace("\t", "    "))
    assert clean(text) == one
    assert clean(text, multiline=True) == many


@given(TEXT, st.one_of(st.none(), st.integers(1, 8)))
def test_one_line_is_the_text_with_whitespace_runs_made_one_space_then_cleaned(
    text: str, limit: int | None
) -> None:
    assert one_line(text, limit) == clean(" ".join(text.split()), limit=limit)


@given(
    st.datetimes(
        min_value=datetime(1, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_a_timeline_stamp_reads_as_strftime_writes_it(at: datetime) -> None:
    assert stamp(at) == at.strftime("%Y-%m-%d %H:%M:%S")


def _walked(value: object) -> object:
    """What cleaning every string of a fact, field by field, gives (the straightforward way)."""
    if isinstance(value, str):
        return clean(value, multiline=True)
    if isinstance(value, tuple):
        return tuple(_walked(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _walked(getattr(value, f.name)) for f in fields(value)})
    return value


NAME = st.one_of(TEXT, st.just("deploy-dev"), st.none())  # None: a str field holding another type


@given(st.lists(st.tuples(NAME, NAME), max_size=4), TEXT, TEXT, NAME)
def test_a_fact_is_cleaned_as_a_field_by_field_walk_cleans_it(
    stages: list[tuple[str, str]], message: str, author: str, digest: str
) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    run = PipelineRun(
        id="r1",
        service="svc",
        pipeline="ci",
        number=1,
        status=Status.RUNNING,
        stages=tuple(Stage(n, Status.SUCCEEDED, environment=e) for n, e in stages),
        author=author,
        commit="abc",
        message=message,
        branch="main",
        queued_at=t0,
        source="s",
        observed_at=t0,
        digest=digest,
    )
    expected = _walked(run)
    got = sanitize._inert(run)
    assert got == expected
    assert (got is run) == (expected == run)  # clean facts are handed back as they are
