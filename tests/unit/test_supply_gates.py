"""The supply-chain gates of a promote, judged from the demo fleet's own documents.

The demo signs a SLSA provenance envelope per build with its Ed25519 key, writes a
CycloneDX SBOM (ledger depends on a GPL-3.0-only library), JUnit reports (search has a
flaky test) and code-scanning alerts (catalog has an open high one); its built-in policy
trusts the key. Nothing here is faked: the gates parse and verify those documents.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from cockpit import config
from cockpit.actions import gates, supply_gates, targets
from cockpit.actions.supply_config import SupplyChainConfig
from cockpit.clock import FixedClock
from cockpit.fleet.hub import Hub
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Action, ActionKind, EvidenceKind, Gate, GateStatus
from tests.fakes import T0

SUPPLY = ("provenance", "licences", "scans")


@pytest.fixture(scope="module")
def demo() -> tuple[FleetSnapshot, SupplyChainConfig]:
    import asyncio

    settings = config.load(None, seed=7, scale=12, env={})

    async def look() -> FleetSnapshot:
        hub = Hub(settings.connectors, settings.environments, clock=FixedClock(T0), live=False)
        try:
            return await hub.settle()
        finally:
            await hub.stop()

    return asyncio.run(look()), settings.policy.supply_chain


def promote(snap: FleetSnapshot, service: str) -> Action:
    built = targets.promote(snap, service, "prod")
    assert isinstance(built, Action), built
    return built


def by_name(found: tuple[Gate, ...]) -> dict[str, Gate]:
    return {g.name: g for g in found}


def test_a_clean_service_passes_all_four_from_its_documents(demo) -> None:  # type: ignore[no-untyped-def]
    snap, supply = demo
    action = promote(snap, "checkout")
    found = by_name(gates.checklist(snap, action, None, supply))
    assert list(found) == ["pipeline", "tests", "canary", "alerts", *SUPPLY]
    for name in ("tests", *SUPPLY):
        assert found[name].status is GateStatus.PASS, found[name]
    prov = found["provenance"]
    facts = dict(prov.facts)
    run = supply_gates.run_for(snap, "checkout", action.version)
    assert run is not None
    assert facts["digest"] == run.digest  # the image being promoted, as the build made it
    assert facts["commit"] == run.commit
    assert facts["verification"] == "public key"
    assert "acme-demo/checkout@refs/heads/main" in prov.evidence
    # The SBOM judged is the one the demo reported for this version: its digest is kept.
    (sbom,) = snap.evidence_for("checkout", action.version, EvidenceKind.SBOM)
    assert dict(found["licences"].facts)["sbom_digest"] == (
        "sha256:" + hashlib.sha256(sbom.body).hexdigest()
    )
    assert dict(found["tests"].facts)["report_format"] == "JUnit XML"
    assert all(
        g.service == "checkout" and g.version == action.version
        for g in found.values()
        if g.name in SUPPLY
    )


def test_a_denied_licence_fails_and_names_the_component(demo) -> None:  # type: ignore[no-untyped-def]
    snap, supply = demo
    found = by_name(gates.checklist(snap, promote(snap, "ledger"), None, supply))
    licences = found["licences"]
    assert licences.status is GateStatus.FAIL
    assert "readline-compat@8.2.0 (GPL-3.0-only)" in licences.evidence
    assert dict(licences.facts)["denied"] == "1"
    assert found["provenance"].status is GateStatus.PASS


def test_an_open_high_alert_on_the_commit_fails_scans(demo) -> None:  # type: ignore[no-untyped-def]
    snap, supply = demo
    action = promote(snap, "catalog")
    scans = by_name(gates.checklist(snap, action, None, supply))["scans"]
    assert scans.status is GateStatus.FAIL
    assert "py/sql-injection" in scans.evidence
    # At "critical" the same high alert no longer blocks.
    lenient = replace(supply, scans=replace(supply.scans, fail_at="critical"))
    assert by_name(gates.checklist(snap, action, None, lenient))["scans"].status is (
        GateStatus.PASS
    )


def test_a_flaky_test_is_named_and_does_not_block_by_default(demo) -> None:  # type: ignore[no-untyped-def]
    snap, supply = demo
    tests = by_name(gates.checklist(snap, promote(snap, "search"), None, supply))["tests"]
    assert tests.status is GateStatus.PASS
    assert "test_checkout_survives_upstream_timeout" in tests.evidence


def test_a_run_with_failing_tests_fails_the_gate_naming_them(demo) -> None:  # type: ignore[no-untyped-def]
    snap, supply = demo
    run = next(r for r in snap.runs_newest_first() if r.tests and r.tests.failed)
    action = Action(ActionKind.PROMOTE, run.service, "prod", version=run.version)
    tests = gates.tests_gate(snap, run.service, run.version, supply, action)
    assert tests.status is GateStatus.FAIL
    assert f"_regression_{run.number}_1" in tests.evidence


def test_another_key_fails_provenance(demo) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    snap, supply = demo
    pem = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    other = replace(supply, provenance=replace(supply.provenance, public_keys=[pem]))
    prov = by_name(gates.checklist(snap, promote(snap, "checkout"), None, other))["provenance"]
    assert prov.status is GateStatus.FAIL, prov


def test_another_repository_fails_provenance(demo) -> None:  # type: ignore[no-untyped-def]
    snap, supply = demo
    other = replace(supply, provenance=replace(supply.provenance, repository="evil/{service}"))
    prov = by_name(gates.checklist(snap, promote(snap, "checkout"), None, other))["provenance"]
    assert prov.status is GateStatus.FAIL
    assert "is not evil/checkout" in prov.evidence


def test_without_a_section_the_gate_is_not_in_the_checklist(demo) -> None:  # type: ignore[no-untyped-def]
    snap, _ = demo
    names = [g.name for g in gates.checklist(snap, promote(snap, "ledger"), None, None)]
    assert names == ["pipeline", "tests", "canary", "alerts"]


def test_a_gate_an_environment_names_without_policy_is_unknown(demo) -> None:  # type: ignore[no-untyped-def]
    snap, supply = demo
    found = gates.checklist(snap, promote(snap, "ledger"), ["pipeline", "provenance"], None)
    assert [(g.name, g.status) for g in found] == [
        ("pipeline", GateStatus.PASS),
        ("provenance", GateStatus.UNKNOWN),
    ]
    assert found[1].evidence == "no supply_chain.provenance policy configured"
    # With the policy, the environment's list still decides which gates it needs.
    only = gates.checklist(snap, promote(snap, "ledger"), ["licences"], supply)
    assert [(g.name, g.status) for g in only] == [("licences", GateStatus.FAIL)]


@pytest.mark.parametrize("how", ["failing", "stale"])
def test_documents_from_a_failing_or_stale_source_are_unknown(demo, how: str) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    snap, supply = demo
    state = snap.sources["demo"]
    if how == "failing":
        later = snap.with_source(replace(state, ok=False, error="connection refused"), T0)
    else:
        later = snap.with_source(state, T0 + timedelta(hours=1))
    found = by_name(gates.checklist(later, promote(snap, "ledger"), None, supply))
    for name in SUPPLY:
        assert found[name].status is GateStatus.UNKNOWN, found[name]
        assert ("demo failing" if how == "failing" else "demo stale") in found[name].evidence
    # What the documents said is kept in the words, so nobody is surprised later.
    assert "last said fail: denied licence" in found["licences"].evidence


def test_a_version_with_no_build_known_is_unknown_not_pass(demo) -> None:  # type: ignore[no-untyped-def]
    snap, supply = demo
    action = Action(ActionKind.PROMOTE, "ledger", "prod", version="9.9.9")
    found = by_name(gates.checklist(snap, action, None, supply))
    assert found["provenance"].evidence == "no artifact digest known for ledger 9.9.9"
    assert found["scans"].evidence == "no commit known for ledger 9.9.9"
    assert all(found[n].status is GateStatus.UNKNOWN for n in SUPPLY)


def test_a_refresh_that_changed_nothing_judges_nothing_again(demo) -> None:  # type: ignore[no-untyped-def]
    snap, supply = demo
    action = promote(snap, "inventory")
    first = gates.checklist(snap, action, None, supply)
    kept = supply_gates.cached()
    again = gates.checklist(snap, action, None, supply)
    assert supply_gates.cached() == kept
    assert first == again
