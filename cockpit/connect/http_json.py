"""A faster JSON parser for connectors whose answers are large (GitHub's runs lists).

orjson parses GitHub's workflow-runs lists about twice as fast as the standard library
(a first frame of 50 repositories parses 1,000 runs, 3 MB), and it is imported only by the
connectors that pass `loads` to their `Api`. Whatever orjson refuses (NaN or Infinity, a
byte-order mark, UTF-16, lone surrogates, 1,024 levels of nesting) goes to the standard
library, so such bodies parse, or fail, as they did. The one difference: an integer past
64 bits becomes a float (the standard library keeps it exact); GitHub sends none (its ids
are below 2**53, the largest a JavaScript client reads exactly).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json.decoder import scanstring  # type: ignore[attr-defined]  # public, untyped
from typing import Any

import orjson


def loads(content: bytes) -> Any:
    """`content` parsed: orjson first, the standard library for what orjson refuses."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def leading(raw: bytes, key: str, count: int) -> list[Any] | None:
    """The first `count` items of the list at `key` of the JSON object `raw`, parsed
    without reading past them (the standard library's scanner, item by item); None when
    `raw` does not start as such an object (parse it whole then, which says why).

    An early frame needs a long list's first items only: the rest, and the check that the
    whole body is well formed, come when it is parsed whole."""
    try:
        text = raw.decode()
        scan = _DECODER.scan_once  # type: ignore[attr-defined]  # the C scanner
        at = _skip(text, 0)
        if text[at : at + 1] != "{":
            return None
        at += 1
        while True:
            at = _skip(text, at)
            if text[at : at + 1] != '"':
                return None
            name, at = scanstring(text, at + 1)
            at = _skip(text, at)
            if text[at : at + 1] != ":":
                return None
            at = _skip(text, at + 1)
            if name == key:
                break
            _, at = scan(text, at)
            at = _skip(text, at)
            if text[at : at + 1] != ",":
                return None
            at += 1
        if text[at : at + 1] != "[":
            return None
        items: list[Any] = []
        at = _skip(text, at + 1)
        if text[at : at + 1] == "]":
            return items
        while len(items) < count:
            item, at = scan(text, at)
            items.append(item)
            at = _skip(text, at)
            if text[at : at + 1] == "]":
                return items
            if text[at : at + 1] != ",":
                return None
            at = _skip(text, at + 1)
        return items
    except (StopIteration, ValueError):  # the scanner's "no value here"; bad text or bytes
        return None


def _skip(text: str, at: int) -> int:
    """The index past the JSON white space at `at`."""
    found = _SPACE.match(text, at)
    return found.end() if found else at


class LazyJson:
    """A body parsed when first asked for, once (later polls' 304 hand back this object,
    so the parsed value keeps its identity), or only a list's first items before that."""

    __slots__ = ("_parse", "_raw", "_value", "size")

    def __init__(self, raw: bytes, parse: Callable[[bytes], Any] = loads) -> None:
        self._raw = raw
        self._parse = parse
        self._value: Any = _UNSET
        self.size = len(raw)

    def value(self) -> Any:
        """The whole body parsed (ValueError when it is not JSON); the bytes then go."""
        if self._value is _UNSET:
            self._value = self._parse(self._raw)
            self._raw = b""
        return self._value

    def head(self, key: str, count: int) -> list[Any] | None:
        """`leading(raw, key, count)`, from the parsed value once there is one."""
        if self._value is _UNSET:
            return leading(self._raw, key, count)
        items = self._value.get(key) if isinstance(self._value, dict) else None
        return items[:count] if isinstance(items, list) else None


_UNSET: Any = object()
