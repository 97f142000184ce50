"""Canonical JSON and digests: the same verdict always serialises to the same bytes."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

JSONValue = Any


def plain(value: object) -> JSONValue:
    """Nested data with non-finite floats spelled as strings (JSON has no NaN or Infinity)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if (
        isinstance(value, list)
        and set(map(type, value)) == {float}
        and all(map(math.isfinite, value))
    ):
        return value  # the common case, a clean series: nothing to convert
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [plain(v) for v in value]
    raise TypeError(f"cannot serialise {type(value).__name__}")


def canonical_json(value: object) -> str:
    """Sorted keys, no insignificant whitespace, ASCII only, floats as Python's shortest repr."""
    return json.dumps(
        plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def digest(value: object) -> str:
    """sha256 of the canonical JSON, prefixed like an OCI digest."""
    return digest_text(canonical_json(value))


def digest_text(text: str) -> str:
    """sha256 of text that is already canonical JSON."""
    return "sha256:" + hashlib.sha256(text.encode("ascii")).hexdigest()


def member(key: str) -> str:
    """A JSON-path step for an object key: .name, or ["odd key"] when it is not identifier-like."""
    return f".{key}" if key.isidentifier() else f"[{json.dumps(key)}]"
