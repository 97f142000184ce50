"""The conditional-request cache: each GET's last ETag and body, bounded, least recently used out first."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

# A poll of 50 GitHub repositories asks ~300 distinct URLs; room for several connectors'
# worth of pages while a long-running cockpit cannot grow without end (issue 12).
MAX_ENTRIES = 2048
MAX_BYTES = 32 << 20


@dataclass(frozen=True)
class Cached:
    """One remembered answer: served again when the server says 304 Not Modified."""

    etag: str
    body: Any
    headers: dict[str, str]
    size: int  # the response's bytes on the wire, what the bound counts


class EtagCache:
    """At most `max_entries` answers and `max_bytes` of bodies; a hit makes an entry recent."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, Cached] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Cached | None:
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
        return cached

    def put(self, key: str, cached: Cached) -> None:
        self.discard(key)
        if cached.size > self.max_bytes:
            return  # would evict everything else and still not fit
        self._entries[key] = cached
        self.bytes += cached.size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, oldest = self._entries.popitem(last=False)
            self.bytes -= oldest.size

    def discard(self, key: str) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
