"""A repository's runs list as read in round one: parsed whole, or first its newest runs.

GitHub answers a runs list of 20 runs in about 60 KB of JSON, and an early first frame of
50 repositories would spend most of its client time parsing 3 MB of them. It shows each
repository's newest few runs only (`RunPages.newest`), scanned off the front of each
body; the second round parses the bodies whole (`RunPages.whole`), which also checks
that they are well formed. Later polls parse each new body whole at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cockpit.connect.http import Api
from cockpit.connect.http_json import LazyJson
from cockpit.errors import Unreachable
from connectors.github.deployments import created, list_of

Json = Mapping[str, Any]
KEY = "workflow_runs"
# Below this many bytes a body (about 15 of GitHub's runs) is parsed whole, even for an
# early frame: orjson reads it faster than the scanner reads 5 runs off its front.
SMALL = 48 << 10


@dataclass
class RunPages:
    """The bodies of one repository's runs-list pages (one per workflow when several are
    watched; more only when the server sent fewer runs than asked), newest runs first."""

    api: Api
    limit: int  # runs_per_repo
    pages: list[tuple[str, LazyJson]] = field(default_factory=list)  # (path, body)
    _whole: list[Json] | None = None

    def whole(self) -> list[Json]:
        """The newest `limit` runs of all pages, parsed whole once (Unreachable when a body
        is not JSON or not a runs list)."""
        if self._whole is None:
            raws = [run for path, body in self.pages for run in runs_of(self.api, path, body)]
            raws = list_of(raws, "workflow runs")
            self._whole = sorted(raws, key=created, reverse=True)[: self.limit]
        return self._whole

    def newest(self, count: int) -> list[Json]:
        """The newest `count` runs, parsing each body only as far as its first `count`
        runs (the newest of a page come first) when one is long; whole when they are all
        short (`SMALL`), or when a body is not shaped so."""
        if self._whole is None and any(body.size > SMALL for _, body in self.pages):
            heads = [body.head(KEY, count) for _, body in self.pages]
            if all(isinstance(h, list) for h in heads):
                raws = list_of([run for h in heads for run in h or ()], "workflow runs")
                if all("id" in r for r in raws):
                    return sorted(raws, key=created, reverse=True)[:count]
        return self.whole()[:count]


def runs_of(api: Api, path: str, body: object) -> list[Any]:
    """A runs-list page's runs; a body that is not JSON, or not a runs list, says so."""
    if isinstance(body, LazyJson):
        lazy = body
        try:
            body = lazy.value()
        except ValueError:
            raise api.malformed("GET", api.url(path), lazy.size) from None
    chunk = body.get(KEY) if isinstance(body, Mapping) else None
    if not isinstance(chunk, list):
        raise Unreachable(f"{api.name}: {path} did not return workflow_runs")
    return chunk
