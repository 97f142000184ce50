"""Canonical JSON, secret redaction and the chain hash: the bytes every record is judged by.

The rules are specified in docs/audit-format.md; change nothing here without bumping the
record format version there and in `FORMAT_VERSION`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from cockpit.connect.options import Secret

FORMAT_VERSION = 1
DOMAIN = b"cockpit-audit-v1\x00"  # keeps a record hash from posing as any other SHA-256
GENESIS = bytes(32)  # prev_hash of record 1
MAX_INT = 2**53 - 1  # beyond this, JSON readers in other languages lose precision
REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"(?:^|[_\-.\s])(pass|password|passwd|passphrase|secrets?|token|apikey|api_key|authorization"
    r"|cookie|credentials?|private_key)(?:$|[_\-.\s])"
)
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_SECRET_VALUE = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_\-]{20,}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}|(?i:bearer|basic)\s+[A-Za-z0-9._~+/\-]{16,}=*"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$))"
)


def utc_text(when: datetime) -> str:
    """RFC 3339 UTC with milliseconds and a Z: fixed width, so text order is time order."""
    if when.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


_UTC_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def parse_utc(text: str) -> datetime:
    # Every record's ts has utc_text's shape (_UTC_TEXT): fromisoformat reads it ~15x faster than
    # strptime (20,000 records: 0.4 s -> 0.03 s); any other text takes the strict path.
    if _UTC_TEXT.fullmatch(text):
        return datetime.fromisoformat(text).astimezone(UTC)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def _secret_key(key: str) -> bool:
    return _SECRET_KEY.search(_CAMEL.sub(r"\1_\2", key).lower().replace("-", "_")) is not None


def redact_text(text: str) -> str:
    """Token-shaped substrings (GitHub, GitLab, Slack, AWS keys, bearer headers) removed."""
    return _SECRET_VALUE.sub(REDACTED, text) if text else text


def plain(value: Any, *, redact: bool = True) -> Any:
    """The value as JSON data under the canonical rules: no floats, no nulls from types.

    Floats become strings (repr: shortest round trip; NaN and infinities by name), so no
    two writers can disagree on a number. Mapping values under secret-looking keys and
    token-shaped substrings are replaced by "[redacted]".
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            return str(value)
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value) if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Enum):
        return plain(value.value, redact=redact)
    if isinstance(value, str):
        return redact_text(value) if redact else value
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, bytes):
        return value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = str(k)
            secret = redact and v not in (None, "", False) and _secret_key(key)
            out[key] = REDACTED if secret else plain(v, redact=redact)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [plain(v, redact=redact) for v in items]
    raise TypeError(f"cannot put a {type(value).__name__} in an audit record")


def _fix_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {_fix_surrogates(k): _fix_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fix_surrogates(v) for v in value]
    return value


def canonical(data: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8, only the JSON escapes RFC 8785 requires.

    `data` must already be plain (see `plain`); lone surrogates become U+FFFD.
    """
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return canonical(_fix_surrogates(data))


def digest(data: Any) -> str:
    """ "sha256:" and the hex SHA-256 of the canonical bytes of plain data."""
    return "sha256:" + hashlib.sha256(canonical(data)).hexdigest()


def chain_hash(prev_hash: bytes, body: bytes) -> bytes:
    """hash = SHA-256(DOMAIN || prev_hash (32 bytes) || canonical record bytes)."""
    return hashlib.sha256(DOMAIN + prev_hash + body).digest()
