"""The shortcuts that skip a regex for text already safe give what the full treatment gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cockpit import sanitize
from cockpit.incident.render import stamp
from cockpit.model import Deployment, Health, Observation, PipelineRun, Revision, Stage, Status
from cockpit.sanitize import InertMemo, clean, one_line

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


def _deployment(n: int, version: Any, revisions: Sequence[tuple[Any, Any]]) -> Deployment:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return Deployment(
        f"svc-{n}", "prod", version, "sha256:ab", t0, "ann", Status.SUCCEEDED, Health.HEALTHY,
        "s", t0, tuple(Revision(v, d, t0, "bob") for v, d in revisions),
    )  # fmt: skip


@given(st.lists(st.tuples(NAME, st.lists(st.tuples(NAME, NAME), max_size=3)), max_size=6))
def test_a_batch_is_clean_as_it_is_only_when_every_string_in_it_and_its_parts_is(
    made: list[tuple[str, list[tuple[str, str]]]],
) -> None:
    """The one-pass check of a poll's items (and their revisions, by field) never passes an
    item a field-by-field walk would change."""
    batch = [_deployment(n, v, revs) for n, (v, revs) in enumerate(made)]
    if sanitize._clean_items(batch):
        assert all(_walked(d) == d for d in batch)


def test_the_memo_cleans_a_hostile_revision_among_thousands_of_clean_deployments() -> None:
    """A first poll's 5,000 deployments are checked in one pass (past 4,096 characters, by
    bytes): one control character in one revision sends them to the walk, which cleans it
    and hands back every clean one as it was (a newline is kept: text may span lines)."""
    clean_ones = [_deployment(n, "1.0.0", [("0.9.0", "sha256:cd")] * 3) for n in range(5000)]
    assert sanitize._clean_items(clean_ones)
    for bad in ("\x1b[2J", "\x7f", "\u202e", "a\nb"):
        hostile = _deployment(5000, "1.0.1", [("0.9.0", "sha256:cd"), ("0.8.0", f"sha{bad}")])
        assert not sanitize._clean_items([*clean_ones, hostile])
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        got = InertMemo()(Observation("s", t0, deployments=(*clean_ones, hostile)))
        assert all(a is b for a, b in zip(got.deployments, clean_ones, strict=False))
        assert got.deployments[-1] == _walked(hostile)
        assert (got.deployments[-1] == hostile) == (bad == "a\nb")


def test_a_long_ascii_text_is_printable_as_isprintable_says() -> None:
    for code in range(128):
        text = "x" * 5000 + chr(code)
        assert sanitize._printable(text) == text.isprintable()
