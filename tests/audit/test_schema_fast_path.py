"""The one-pass schema check that reads a stored record decides exactly as the field-by-field one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cockpit.audit.records import (
    ACTOR_SCHEMA,
    SCHEMA,
    TARGET_SCHEMA,
    AuditError,
    _decoded,
    _raise_type_problem,
    _types_fit,
    body_of,
    parse,
)

from .conftest import ACTOR, PROD, event

T = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
BODY = body_of(event(), 7, T)
PARTS: dict[str, Mapping[str, object]] = {
    "": SCHEMA,
    "actor": ACTOR_SCHEMA,
    "target": TARGET_SCHEMA,
}
# Every JSON type, including the ones a schema field is easily confused with (true for 1).
JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
    st.just({}),
    st.just([]),
)
MUTATION = st.tuples(
    st.sampled_from(sorted(PARTS)),
    st.sampled_from(["delete", "set", "add"]),
    st.integers(0, 15),
    JSON_VALUES,
)


def _mutated(mutations: list[tuple[str, str, int, object]]) -> dict[str, Any]:
    """A stored record's JSON with `mutations` applied, decoded as the reader decodes it."""
    data = json.loads(BODY)
    for part_name, how, index, value in mutations:
        part = data.get(part_name) if part_name else data
        if not isinstance(part, dict):
            continue
        keys = list(PARTS[part_name])
        key = keys[index % len(keys)]
        if how == "delete":
            part.pop(key, None)
        elif how == "set":
            part[key] = value
        else:
            part[f"unknown_{index}"] = value
    decoded: dict[str, Any] = json.loads(json.dumps(data))
    return decoded


@given(st.lists(MUTATION, max_size=3))
def test_the_one_pass_check_accepts_exactly_what_the_field_by_field_check_accepts(
    mutations: list[tuple[str, str, int, object]],
) -> None:
    data = _mutated(mutations)
    try:
        _raise_type_problem(data)
        accepted = True
    except AuditError:
        accepted = False
    assert _types_fit(data) is accepted


def test_each_record_keeps_its_own_actor_and_target_when_others_differ_in_one_field() -> None:
    """Actors and targets are built once per distinct content: one field apart is distinct."""
    flagged = replace(ACTOR, agent_forwarded_suspected=True)
    bodies = [
        body_of(event(1), 1, T),
        body_of(event(2, actor=flagged, target=replace(PROD, to_version="1.5.1")), 2, T),
        body_of(event(3), 3, T),
    ]
    first, second, third = (parse(b, bytes(32), bytes(32)) for b in bodies)
    assert first.actor == third.actor == ACTOR and second.actor == flagged
    assert first.target == third.target == PROD
    assert second.target is not None and second.target.to_version == "1.5.1"


BODY_BYTES = st.one_of(
    st.binary(max_size=12),
    st.builds(
        lambda a, b: a + b, st.sampled_from([b"{", b' {"a":1}', b"{}", BODY]), st.binary(max_size=6)
    ),
    st.sampled_from(
        [b'{"a":"\xed\xa0\x80"}', b"{\x00\x00\x00", b'{"a":1}  ', b"{}{}", b"\xef\xbb\xbf{}"]
    ),
)


@given(BODY_BYTES)
def test_a_body_decodes_as_json_loads_decodes_it_or_fails_as_it_fails(body: bytes) -> None:
    try:
        expected: object = json.loads(body)
    except (ValueError, RecursionError) as exc:
        expected = type(exc)
    try:
        got: object = _decoded(body)
    except (ValueError, RecursionError) as exc:
        got = type(exc)
    if isinstance(expected, type):  # both refuse; parse says "record body is not JSON" to both
        assert isinstance(got, type) and issubclass(got, ValueError) == issubclass(
            expected, ValueError
        )
    else:
        assert got == expected
