"""Reading evidence documents safely, and the wording every supply-chain gate shares.

A document is untrusted bytes: it may be truncated, nested without end, carry numbers with
thousands of digits, or hold text written to fool a terminal. Everything here turns such a
document into an `EvidenceError` (the gate is then unknown), never a crash or a hang, and
every name it lets through for display is cleaned text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from cockpit.evidence_model import Evidence, EvidenceKind
from cockpit.sanitize import clean, one_line
from cockpit.supply import EvidenceError

# A connector caps a response at 32 MiB; a document past this came from somewhere else.
MAX_BODY = 64 * 1024 * 1024
NAMED = 5  # offenders named in a gate's one line before "+N more"
NAME_LIMIT = 120  # characters of one untrusted name or message in that line


def digest(body: bytes) -> str:
    """The document's identity as the audit record keeps it."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def load_json(
    body: bytes,
    what: str,
    *,
    limit: int = MAX_BODY,
    max_depth: int | None = None,
    utf8_only: bool = False,
) -> Any:
    """The JSON value of `body`, or EvidenceError saying why it is not usable as `what`:
    over `limit` bytes, empty, not JSON (in UTF-8 when `utf8_only`; else any encoding JSON
    allows), or nesting deeper than `max_depth` (when given)."""
    if len(body) > limit:
        raise EvidenceError(f"{what} is {len(body):,} bytes, over the {limit:,}-byte limit")
    if not body.strip():
        raise EvidenceError(f"{what} is empty")
    deeply = f"deeper than {max_depth} levels" if max_depth else "too deeply to read"
    try:
        value = json.loads(body.decode("utf-8") if utf8_only else body)
    except RecursionError:
        # json nests by recursion: a document of 100,000 "[" ends here, not in a crash.
        raise EvidenceError(f"{what} nests {deeply}") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, 5,000-digit ints
        raise EvidenceError(f"{what} is not valid JSON: {text(exc)}") from None
    if max_depth and _depth(value, max_depth) > max_depth:
        raise EvidenceError(f"{what} nests {deeply}")
    return value


def _depth(value: object, limit: int) -> int:
    """How deeply `value` nests, walked without recursion (and without going past `limit`)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def text(value: object, limit: int = NAME_LIMIT) -> str:
    """Untrusted text as one clean bounded line ("" for anything that is not text)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        try:
            return clean(repr(value), limit=limit)
        except ValueError:  # an int past Python's 4,300-digit str limit
            return "(huge number)"
    if not isinstance(value, str):
        return ""
    return one_line(value, limit=limit)


def field(obj: object, name: str) -> str:
    """`obj[name]` as clean text when `obj` is a mapping; "" otherwise."""
    return text(obj.get(name)) if isinstance(obj, dict) else ""


def items(obj: object, name: str, what: str) -> list[Any]:
    """`obj[name]` as a list: absent is empty, anything else is an EvidenceError."""
    value = obj.get(name) if isinstance(obj, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise EvidenceError(f"{what}: {name} is {type(value).__name__}, not a list")
    return value


def bounded(names: Sequence[str], limit: int = NAMED) -> str:
    """'a, b, c +N more': the first `limit` names and how many were left out."""
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown} +{rest} more" if rest > 0 else shown


def short(sha: str) -> str:
    """A commit as people read it (7 characters), clean."""
    return text(sha)[:7]


def of_kind(
    docs: Iterable[Evidence], kind: EvidenceKind, service: str, version: str
) -> list[Evidence]:
    """The documents of `kind` about `version` of `service`, in the order given."""
    return [d for d in docs if d.kind == kind and d.service == service and d.version == version]


def plural(n: int, word: str, words: str = "") -> str:
    """'1 test', '3 tests'."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
