"""The demo fleet's history of finished runs: drawn when the fleet is made, read when polled.

At 10,000 services the history is 90,000 runs, and making each a frozen `PipelineRun`
(with its stages, digest and url) is most of the fleet's start. So the start only draws
it: the same random numbers in the same order as runs made with `Fleet.new_run` and
stepped to their end (`draws.Stream.runs`, in C where built; tests/unit/test_demo_start.py
holds it to step-by-step runs), each run kept as a small tuple of what was drawn
(`Unread`) in its place in `Fleet.runs`. Reading makes the frozen run, sharing
what repeats: datetimes by second, stages by their times, digests with the deployments.
The demo connector reads a small history at its first poll, a large one from its second on
in chunks, newest runs first (each poll says how much is still unread: a chunk of 10,000
runs is ~150 ms of a poll, where 90,000 at once held the event loop for 1.5-2.4 s), and
everything at once for one-shot commands.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cockpit.model import PipelineRun, Stage, Status
from connectors.demo.digest import sha1_hex
from connectors.demo.sim_runs import (
    AUTHORS,
    MESSAGES,
    SKIPPED_STAGES,
    STAGES,
    digest_of,
    make_run,
    make_stage,
    run_url,
    summary,
)

if TYPE_CHECKING:
    from connectors.demo.draws import Stream
    from connectors.demo.sim import Fleet

# A service's history as drawn, not yet read, shared by its runs' places in `Fleet.runs`:
# (service, first run number, first commit seq, first patch, major, minor, count, words).
# A run's word packs its draws: queued minutes (4 bits), author (4), message (4), the stage
# it fails at + 1 (3), then 3 bits per stage run, the seconds past the stage's shortest.
Unread = tuple[str, int, int, int, int, int, int, tuple[int, ...]]

_NAMES = tuple(s[0] for s in STAGES)
_ENVS = tuple(s[4] for s in STAGES)
_SHORTEST = tuple(max(s[1], 1) for s in STAGES)  # a stage's seconds before its random part
_FAIL = tuple(s[3] for s in STAGES)
_QUEUED_MINUTES = 10  # a run was queued up to 9 minutes before its quarter hour


class History:
    """Draws a fleet's finished runs, then reads them into frozen runs."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.start = fleet.now
        # Ids of the runs drawn and not read yet: in creation order until the first chunk
        # is read (`read`), then newest first; each service's are `_blocks` (start, count).
        self.unread: list[str] = []
        self._blocks: list[tuple[int, int]] = []
        self._newest_first = False
        self._at: dict[int, datetime] = {}
        self._stages: dict[tuple[int, bool, int, int], Stage] = {}
        # (run index, service) -> (version, digest), shared with the deployments.
        self._shared: dict[tuple[int, str], tuple[str, str]] = {}

    def at(self, seconds: int) -> datetime:
        """The fleet's start moved by `seconds`, one object per second."""
        found = self._at.get(seconds)
        if found is None:
            found = self._at[seconds] = self.start + timedelta(seconds=seconds)
        return found

    def draw(self, svc: str, count: int, need: int, stream: Stream) -> list[tuple[str, str]]:
        """Draw `svc`'s `count` finished runs, oldest first, into the fleet's runs: the
        (version, digest) of the `need` newest that succeeded, newest first."""
        fleet = self.fleet
        major, minor, patch = fleet.latest_version[svc]
        number = fleet.run_numbers[svc]
        first = (number + 1, fleet._seq, patch + 1)
        words, succeeded = stream.runs(count, _QUEUED_MINUTES, len(AUTHORS), len(MESSAGES), _FAIL)
        fleet._seq += count  # a run's commit hash is made from its seq when it is read
        unread: Unread = (svc, *first, major, minor, count, words)
        runs, ids = fleet.runs, self.unread
        self._blocks.append((len(ids), count))
        for n in range(first[0], number + count + 1):
            run_id = f"{svc}#{n}"
            runs[run_id] = unread
            ids.append(run_id)
        fleet.latest_version[svc] = (major, minor, patch + count)
        fleet.run_numbers[svc] = number + count
        built = []
        for i in reversed(succeeded[-need:]):
            version = f"{major}.{minor}.{first[2] + i}"
            built.append((version, digest_of(svc, version)))
            self._shared[i, svc] = built[-1]
        return built

    def read(self, run_id: str, unread: Unread) -> PipelineRun:
        """The frozen run `run_id` (its key in the fleet's runs, shared), observed now."""
        svc, first, seq, patch, major, minor, count, words = unread
        i = int(run_id[len(svc) + 1 :]) - first
        word = words[i]
        fail_at = (word >> 12 & 7) - 1
        queued = -60 * (15 * (count - i) + (word & 15))
        fleet = self.fleet
        at, memo = self.at, self._stages
        stages = []
        t = queued + 5
        shift = 15
        for idx in range(len(STAGES) if fail_at < 0 else fail_at + 1):
            end = t + _SHORTEST[idx] + (word >> shift & 7)
            shift += 3
            failed = idx == fail_at
            key = (idx, failed, t, end)
            stage = memo.get(key)
            if stage is None:
                status = Status.FAILED if failed else Status.SUCCEEDED
                stage = make_stage(_NAMES[idx], status, at(t), at(end), False, _ENVS[idx])
                memo[key] = stage
            stages.append(stage)
            t = end
        stages.extend(SKIPPED_STAGES[len(stages) :])
        number = first + i
        shared = self._shared.get((i, svc))
        version, digest = shared or (f"{major}.{minor}.{patch + i}", "")
        failed_tests = 1 + number % 4 if fail_at == 1 else 0
        return make_run(
            run_id,
            svc,
            "release",
            number,
            Status.FAILED if fail_at >= 0 else Status.SUCCEEDED,
            tuple(stages),
            AUTHORS[word >> 4 & 15],
            sha1_hex(f"{fleet.seed}:{svc}:{seq + i}"),
            MESSAGES[word >> 8 & 15],
            "main",
            at(queued),
            fleet.source,
            fleet.now,
            at(queued + 5),
            at(t),
            summary(180 + (number % 7) * 23 - failed_tests, failed_tests, number % 5),
            version,
            digest or digest_of(svc, version),
            run_url(svc, number),
        )

    def read_all(self) -> list[PipelineRun]:
        """Read every run still unread (see `read_some`)."""
        return self.read_some(len(self.unread))

    def read_some(self, limit: int) -> list[PipelineRun]:
        """Read up to `limit` of the runs still unread, each into its place in the fleet's
        runs (so an observation's order is the fleet's, however they were read), and return
        them; those trimmed meanwhile are gone. A part is read newest first: every
        service's newest unread run, then the next, so what a chunk shows is the recent
        history across the fleet. When none is left, drop what only reading used."""
        ids = self.unread
        if limit < len(ids) and not self._newest_first:
            ids = self.unread = self._by_age()
            self._newest_first = True
        runs, read = self.fleet.runs, self.read
        out = []
        for run_id in ids[:limit]:
            unread = runs.get(run_id)
            if type(unread) is tuple:
                frozen = runs[run_id] = read(run_id, unread)
                out.append(frozen)
        self.unread = ids[limit:]
        if not self.unread:
            self._at, self._stages, self._shared, self._blocks = {}, {}, {}, []
        return out

    def _by_age(self) -> list[str]:
        """The unread ids newest first: each service's newest, then each one's next, ..."""
        ids, blocks = self.unread, self._blocks
        longest = max((count for _, count in blocks), default=0)
        return [
            ids[start + count - 1 - k]
            for k in range(longest)
            for start, count in blocks
            if k < count
        ]
