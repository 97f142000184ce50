"""Canonical JSON and digests: the same verdict always serialises to the same bytes."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.judge.cleaning import Series

JSONValue = Any

# The raw series are digested as binary, not as JSON text: formatting 100,000 floats as
# shortest decimals costs ~40 ms, packing them costs ~2 ms. Bump the tag with any change.
SERIES_FORMAT = b"cockpit.judge series v1\n"
CANONICAL_NAN = 0x7FF8_0000_0000_0000  # every NaN is digested as this quiet NaN


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


def binary64(values: Series) -> bytes:
    """IEEE-754 binary64, big-endian, each NaN (whatever its sign or payload) canonical."""
    import numpy as np  # loaded on first use: `import cockpit.judge` stays light

    array = np.array(values, dtype=">f8")
    missing = np.isnan(array)
    if missing.any():
        array.view(">u8")[missing] = CANONICAL_NAN
    return array.tobytes()


def input_digests(
    series: Sequence[tuple[str, Series, Series]], settings_json: str
) -> tuple[str, str]:
    """(series digest, digest of series and settings) for (name, baseline, canary) triples.

    The series encoding is SERIES_FORMAT, the number of metrics, then per metric its name
    (UTF-8), baseline and canary (binary64), each preceded by its length as an unsigned
    64-bit big-endian integer (bytes for the name, values for a series). The digest of
    everything hashes that encoding followed by the length and ASCII of settings_json.
    """
    hasher = hashlib.sha256(SERIES_FORMAT)
    hasher.update(_length(len(series)))
    for name, baseline, canary in series:
        encoded = name.encode("utf-8", "surrogatepass")
        hasher.update(_length(len(encoded)) + encoded)
        for values in (baseline, canary):
            hasher.update(_length(len(values)))
            hasher.update(binary64(values))
    series_digest = "sha256:" + hasher.hexdigest()
    settings = settings_json.encode("ascii")
    hasher.update(_length(len(settings)) + settings)
    return series_digest, "sha256:" + hasher.hexdigest()


def _length(count: int) -> bytes:
    return count.to_bytes(8, "big")


def member(key: str) -> str:
    """A JSON-path step for an object key: .name, or ["odd key"] when it is not identifier-like."""
    return f".{key}" if key.isidentifier() else f"[{json.dumps(key)}]"
