"""Evidence keeps its document compressed: the same bytes come back, equal documents stay
equal, and a cockpit holding every run's JUnit reports holds a fraction of their size."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from cockpit.evidence_model import JUNIT_XML, PACK_FROM, Evidence, EvidenceKind, pack, unpack
from cockpit.sanitize import inert
from tests.fakes import T0


def report(cases: int) -> bytes:
    rows = (
        f'  <testcase classname="tests.api" name="test_case_{i:04d}" time="0.{i % 97:03d}"/>'
        for i in range(cases)
    )
    return ("<testsuites><testsuite>\n" + "\n".join(rows) + "\n</testsuite></testsuites>").encode()


def doc(body: bytes, **more: object) -> Evidence:
    return Evidence(EvidenceKind.TESTS, "api", "1.2.3", "ci", T0, JUNIT_XML, body, **more)  # type: ignore[arg-type]


def test_a_large_document_is_kept_compressed_and_read_back_whole() -> None:
    body = report(300)
    e = doc(body, run_id="api#7")
    assert len(body) > 20_000
    assert len(e.packed) * 8 < len(body)
    assert e.body == body


@pytest.mark.parametrize("body", [b"", b"[]", b"x" * (PACK_FROM - 1), bytes(range(256)) * 3])
def test_any_document_comes_back_as_it_was(body: bytes) -> None:
    assert doc(body).body == body
    assert unpack(pack(body)) == body


def test_equal_documents_are_equal_evidence_and_different_ones_are_not() -> None:
    a, b = doc(report(200)), doc(report(200))
    assert a == b and hash(a) == hash(b) and a.packed == b.packed
    assert doc(report(201)) != a


def test_replace_and_the_hubs_cleaning_keep_the_document() -> None:
    body = report(120)
    e = doc(body, ref="a\x1b[31mb")
    moved = dataclasses.replace(e, subject="sha256:ab")
    assert moved.body == body and moved.subject == "sha256:ab"
    cleaned = inert(e)
    assert cleaned.ref != e.ref and cleaned.body == body


def test_a_document_given_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        Evidence(EvidenceKind.TESTS, "api", "1", "ci", T0, JUNIT_XML, b"x", packed=pack(b"y"))


def test_the_demos_reports_are_held_packed() -> None:
    from cockpit.clock import FixedClock
    from connectors.demo import DemoConnector, DemoOptions

    demo = DemoConnector("demo", DemoOptions(seed=7), client=None, clock=FixedClock(T0))
    demo.live = False
    evidence = asyncio.run(demo.poll()).evidence
    junit = [e for e in evidence if e.media_type == JUNIT_XML]
    assert junit
    kept = sum(len(e.packed) for e in junit)
    whole = sum(len(e.body) for e in junit)
    assert kept * 8 < whole, (kept, whole)
