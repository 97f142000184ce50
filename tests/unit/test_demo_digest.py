"""The demo's digests come from CPython's own SHA modules, not OpenSSL's: the same values."""

from __future__ import annotations

import hashlib

import pytest

from connectors.demo.digest import sha1_hex, sha256_hex


@pytest.mark.parametrize("text", ["", "7:cart:0", "cart@1.4.2", "ünïcode:✓"])
def test_the_demo_digests_are_hashlibs(text: str) -> None:
    assert sha1_hex(text) == hashlib.sha1(text.encode()).hexdigest()
    assert sha256_hex(text) == hashlib.sha256(text.encode()).hexdigest()
