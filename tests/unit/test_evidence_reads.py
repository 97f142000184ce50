"""KeptReads: which evidence reads run in a poll, what is kept, and failures as problems."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from cockpit.clock import FixedClock
from cockpit.connect.evidence_reads import KeptReads, Make, Planned
from cockpit.errors import Unreachable
from cockpit.model import Evidence, EvidenceKind

NOW = datetime(2026, 8, 24, 9, 30, tzinfo=UTC)
SECRET = "glpat-s3cret"


class Reads:
    """Counts the reads of each key and answers as told."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.final = True
        self.fail: BaseException | None = None

    def plan(self, *keys: str) -> list[Planned]:
        kinds = (EvidenceKind.SBOM,)
        return [
            Planned(key, partial(self.read, key), "shop", "1.0", kinds, f"sbom {key}")
            for key in keys
        ]

    async def read(self, key: str, make: Make) -> tuple[list[Evidence], bool]:
        self.calls.append(key)
        if self.fail is not None:
            raise self.fail
        return [make(EvidenceKind.SBOM, "application/spdx+json", b"{}", ref=key)], self.final


async def test_final_answers_are_read_once_others_again_after_retry() -> None:
    clock, reads = FixedClock(NOW), Reads()
    kept = KeptReads("src", clock, str)
    await kept.read(reads.plan("a"))
    reads.final = False
    await kept.read(reads.plan("a", "b"))
    await kept.read(reads.plan("a", "b"))
    assert reads.calls == ["a", "b"]
    clock.advance(301)
    docs = await kept.read(reads.plan("a", "b"))
    assert reads.calls == ["a", "b", "b"]
    assert [d.ref for d in docs] == ["a", "b"]
    assert docs[0].observed_at == clock.now()  # a final answer: confirmed by this poll


async def test_a_key_no_longer_planned_is_forgotten() -> None:
    reads = Reads()
    kept = KeptReads("src", FixedClock(NOW), str)
    await kept.read(reads.plan("a"))
    assert await kept.read(reads.plan("b")) != ()
    await kept.read(reads.plan("a"))
    assert reads.calls == ["a", "b", "a"]


async def test_at_most_per_poll_reads_start_in_plan_order() -> None:
    reads = Reads()
    kept = KeptReads("src", FixedClock(NOW), str, per_poll=2)
    first = await kept.read(reads.plan("a", "b", "c"))
    assert reads.calls == ["a", "b"] and len(first) == 2
    await kept.read(reads.plan("a", "b", "c"))
    assert reads.calls == ["a", "b", "c"]


async def test_any_failure_is_a_problem_document_redacted_and_never_a_crash() -> None:
    reads = Reads()
    kept = KeptReads("src", FixedClock(NOW), lambda t: t.replace(SECRET, "***"))
    reads.fail = Unreachable(f"GET /x failed, token {SECRET}\x1b[31m")
    (doc,) = await kept.read(reads.plan("a"))
    assert doc.problem == "GET /x failed, token ***^[[31m" and doc.body == b""
    assert (doc.kind, doc.ref, doc.service, doc.version, doc.source) == (
        EvidenceKind.SBOM,
        "sbom a",
        "shop",
        "1.0",
        "src",
    )
    reads.fail = ZeroDivisionError(f"odd {SECRET}")
    kept = KeptReads("src", FixedClock(NOW), str)
    (doc,) = await kept.read(reads.plan("b"))
    assert doc.problem == "unusable answer (ZeroDivisionError)"  # its text is not trusted
