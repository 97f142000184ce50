"""The faster JSON parser parses as the standard library does, and a list's first items
scanned off the front of a body are the whole parse's first items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cockpit.connect.http import Api
from cockpit.connect.http_json import LazyJson, leading, loads
from cockpit.errors import Unreachable

RUNS = (Path(__file__).resolve().parents[1] / "fixtures/github/acme-shop/runs.json").read_bytes()

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(values, st.sampled_from([None, 2, "\t", " \n "]))
def test_loads_gives_what_the_standard_library_gives(value: Any, indent: Any) -> None:
    raw = json.dumps(value, indent=indent, ensure_ascii=False).encode()
    assert loads(raw) == json.loads(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": NaN, "b": -Infinity}',  # accepted by the standard library only
        b'\xef\xbb\xbf{"a": 1}',  # a byte-order mark
        '{"a": "\u00e9"}'.encode("utf-16"),
        b'{"a": "\\ud800"}',  # a lone surrogate
        RUNS,
    ],
)
def test_what_orjson_refuses_goes_to_the_standard_library(raw: bytes) -> None:
    assert repr(loads(raw)) == repr(json.loads(raw))


@pytest.mark.parametrize("raw", [b'{"a": ', b"<html>", b"\xff\xfe\x00", b""])
def test_malformed_json_is_a_value_error_as_before(raw: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(raw)
    with pytest.raises(ValueError):
        loads(raw)


@given(
    st.dictionaries(st.text(), values, max_size=3),
    st.lists(values, max_size=6),
    st.integers(min_value=0, max_value=8),
    st.sampled_from([None, 1, "  "]),
)
def test_leading_items_are_the_whole_parse_s_first_items(
    others: dict[str, Any], items: list[Any], count: int, indent: Any
) -> None:
    body = {**others, "workflow_runs": items}
    raw = json.dumps(body, indent=indent).encode()
    assert leading(raw, "workflow_runs", count) == items[:count]


def test_leading_stops_at_the_items_asked_for() -> None:
    """What follows them is not read: a body cut after them still gives them."""
    whole = json.loads(RUNS)
    first = json.dumps(whole["workflow_runs"][0])
    cut = b'{"total_count": 6, "workflow_runs": [' + first.encode() + b', {"id": 1, "na'
    assert leading(cut, "workflow_runs", 1) == whole["workflow_runs"][:1]
    assert leading(cut, "workflow_runs", 2) is None  # the second item is broken


@pytest.mark.parametrize(
    "raw",
    [
        b"[1, 2]",
        b'{"workflow_runs": 7}',
        b'{"other": [1]}',
        b'{"a": 1 "workflow_runs": [1]}',
        b'{"workflow_runs": [1 2]}',
        b"\xff\xfe",
        b"",
    ],
)
def test_leading_says_none_when_the_body_is_not_shaped_so(raw: bytes) -> None:
    assert leading(raw, "workflow_runs", 3) is None


def test_a_lazy_body_parses_once_and_keeps_its_value() -> None:
    calls: list[bytes] = []

    def parse(raw: bytes) -> Any:
        calls.append(raw)
        return json.loads(raw)

    body = LazyJson(RUNS, parse)
    assert body.head("workflow_runs", 2) == json.loads(RUNS)["workflow_runs"][:2]
    assert calls == [] and body.size == len(RUNS)
    value = body.value()
    assert body.value() is value and len(calls) == 1
    head = body.head("workflow_runs", 2)
    assert head is not None and head == value["workflow_runs"][:2]
    assert head[0] is value["workflow_runs"][0]


async def test_an_api_s_loads_parses_its_bodies_and_a_304_hands_back_the_same() -> None:
    etag = 'W/"1"'

    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"etag": etag})
        return httpx.Response(200, content=RUNS, headers={"etag": etag})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        api = Api(client, "https://api.github.com", loads=loads)
        first = await api.get("/repos/acme/shop/actions/runs")
        assert first == json.loads(RUNS)
        lazy = (await api.request("GET", "/r", loads=LazyJson)).body
        again = await api.request("GET", "/r", loads=LazyJson)
        assert again.status == 304 and again.body is lazy
        bad = Api(client, "https://api.github.com", loads=lambda raw: json.loads(b"{"))
        with pytest.raises(Unreachable, match=r"GET /x returned malformed JSON \(\d+ bytes\)"):
            await bad.get("/x")
