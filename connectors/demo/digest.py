"""The demo's made-up commit ids, image digests and fingerprints, as hex SHA-1 and SHA-256.

Taken from CPython's own `_sha1` and `_sha256` modules where they exist (Python's `random`
does the same for its `_sha512`): `hashlib` loads OpenSSL's library first, ~0.6 ms of the
cockpit's start-up for hashes that only need to look real. The values are the same either
way (tests/unit/test_demo_digest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class _Digest(Protocol):
    def hexdigest(self) -> str: ...


try:
    from _sha1 import sha1 as _sha1
except ImportError:  # an interpreter built without it
    from hashlib import sha1 as _sha1
try:
    from _sha256 import sha256 as _sha256  # Python 3.11
except ImportError:
    try:
        from _sha2 import sha256 as _sha256  # Python 3.12 and later
    except ImportError:
        from hashlib import sha256 as _sha256

SHA1: Callable[[bytes], _Digest] = _sha1
SHA256: Callable[[bytes], _Digest] = _sha256


def sha1_hex(text: str) -> str:
    return SHA1(text.encode()).hexdigest()


def sha256_hex(text: str) -> str:
    return SHA256(text.encode()).hexdigest()
