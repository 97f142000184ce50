"""The demo's supply-chain documents: made from the seed, the same every time, agreeing with
the runs they are about, signed with the key the demo's policy trusts, and made once."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from cockpit.actions.supply_config import DEMO_PUBLIC_KEY
from cockpit.clock import FixedClock
from cockpit.model import Evidence, EvidenceKind, Observation
from connectors.demo import DemoConnector, DemoOptions
from connectors.demo.sim_evidence import DEMO_KEY_SEED
from tests.fakes import T0


def observe(seed: int = 7, live: bool = False, clock: FixedClock | None = None) -> DemoConnector:
    demo = DemoConnector("demo", DemoOptions(seed=seed), client=None, clock=clock or FixedClock(T0))
    demo.live = live
    return demo


def poll(demo: DemoConnector) -> Observation:
    return asyncio.run(demo.poll())


def test_the_demo_public_key_is_the_half_of_its_signing_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PrivateKey.from_private_bytes(DEMO_KEY_SEED).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    assert pem == DEMO_PUBLIC_KEY


def test_one_seed_one_set_of_documents() -> None:
    first = poll(observe()).evidence
    again = poll(observe()).evidence
    other = poll(observe(seed=8)).evidence
    assert first and [(e.ref, e.body) for e in first] == [(e.ref, e.body) for e in again]
    assert {e.body for e in first} != {e.body for e in other}


def test_a_live_demo_reports_them_from_its_second_poll_and_keeps_them_while_nothing_moves() -> None:
    clock = FixedClock(T0)
    demo = observe(live=True, clock=clock)
    first = poll(demo)
    assert first.evidence == () and first.incomplete == ""
    second = poll(demo)
    assert second.evidence
    assert poll(demo).evidence is second.evidence  # nothing moved: nothing remade
    clock.advance(timedelta(minutes=2).total_seconds())
    moved = poll(demo)
    kept = {e.ref for e in second.evidence} & {e.ref for e in moved.evidence}
    assert kept, "documents of runs that did not move are kept"


def test_documents_agree_with_the_runs_they_are_about() -> None:
    obs = poll(observe())
    runs = {r.id: r for r in obs.runs}
    docs: dict[tuple[str, EvidenceKind], list[Evidence]] = {}
    for e in obs.evidence:
        docs.setdefault((e.run_id, e.kind), []).append(e)
        assert e.source == "demo" and e.version == runs[e.run_id].version
    for (run_id, kind), found in docs.items():
        run = runs[run_id]
        newest = max(found, key=lambda e: e.attempt)
        if kind is EvidenceKind.TESTS:
            from cockpit.supply.tests_report import parse_tests

            report = parse_tests(newest)
            assert run.tests is not None
            assert (report.total, report.failed, report.skipped) == (
                run.tests.total,
                run.tests.failed,
                run.tests.skipped,
            )
            assert newest.subject == run.commit
        elif kind is EvidenceKind.SCAN:
            alerts = json.loads(newest.body)
            assert {a["most_recent_instance"]["commit_sha"] for a in alerts} == {run.commit}
        elif kind is EvidenceKind.SBOM:
            assert json.loads(newest.body)["metadata"]["component"]["version"] == run.version
        else:
            assert newest.subject == run.digest


def test_one_service_of_each_problem() -> None:
    obs = poll(observe())
    copyleft = {e.service for e in obs.evidence if b"GPL-3.0-only" in e.body}
    alerting = {e.service for e in obs.evidence if b"py/sql-injection" in e.body}
    flaky = {e.service for e in obs.evidence if e.kind is EvidenceKind.TESTS and e.attempt == 2}
    assert (copyleft, alerting, flaky) == ({"ledger"}, {"catalog"}, {"search"})


def test_a_large_fleet_gets_its_documents_a_few_runs_a_poll_and_says_what_is_owed() -> None:
    # All of the first 100 services' documents in one poll held the event loop ~0.64 s.
    from connectors import demo as demo_module

    def fleet(live: bool) -> DemoConnector:
        options = DemoOptions(services=40)
        made = DemoConnector("demo", options, client=None, clock=FixedClock(T0))
        made.live = live
        return made

    once = poll(fleet(live=False))  # a one-shot look gets every document at once
    assert once.incomplete == "" and once.evidence
    live = fleet(live=True)
    assert poll(live).evidence == ()  # the first frame never waits for documents
    seen, owed = [], []
    while True:
        obs = poll(live)
        seen.append(len({e.run_id for e in obs.evidence}))
        owed.append(obs.incomplete)
        if not obs.incomplete:
            break
    runs = len(live.fleet.runs)  # every service is among the first 100: every run is owed
    chunk = demo_module.DOCS_AT_ONCE
    assert runs > chunk  # more than one poll's worth
    assert len(seen) == -(-runs // chunk) and seen[0] <= chunk  # (a queued run has none yet)
    assert owed[0] == f"its documents ({runs - chunk} runs)"
    assert sorted((e.ref, e.body) for e in obs.evidence) == sorted(
        (e.ref, e.body) for e in once.evidence
    )
    assert poll(live) is obs  # complete, and nothing moved: the same observation
