"""OCI provenance end to end: a CD source's deployments -> the hub's known_artifacts -> the
registry connector -> the snapshot -> the provenance gate.

Attestations are made in the test (tests/supply: a DSSE envelope signed with a generated
key, a Sigstore bundle from a private Sigstore) and served by the fake registry as cosign
and actions/attest attach them. Promoting api 1.4.2 from staging to prod is judged on the
attestation of the digest staging runs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

from cockpit.action_model import Action, ActionKind
from cockpit.actions import supply_gates
from cockpit.actions.supply_config import ProvenanceConfig, SigstoreIdentityConfig
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connect import options as opt
from cockpit.connector import Capability, Connector
from cockpit.fleet.hub import Hub
from cockpit.model import (
    Canary,
    CanaryPhase,
    Deployment,
    Environment,
    EvidenceKind,
    GateStatus,
    Health,
    Observation,
    Status,
)
from connectors.oci import OciConnector, OciOptions
from tests.fakes import T0, pipeline_run
from tests.fixtures.oci.registry import DSSE, FakeRegistry, sha256
from tests.supply.provenance_kit import (
    DIGEST,
    GITHUB_HOSTED,
    envelope,
    payload,
    slsa_v1,
    write_public,
)
from tests.supply.sigstore_kit import GITHUB_ISSUER, PrivateSigstore

ENVS = (Environment("dev", 0), Environment("staging", 1), Environment("prod", 2, production=True))
PROMOTE = Action(ActionKind.PROMOTE, "api", "prod", "cd", "1.4.2", from_environment="staging")
OLD = sha256(b"the api image, 1.4.1")


@dataclass
class CdOptions:
    runs: list[tuple[str, str]] = field(default_factory=list)  # (version, digest), newest first
    canary: str = ""  # a digest: api 1.4.3 is a canary in prod with it


class Deployer(Connector):
    """A CD source: api 1.4.2 in staging, 1.4.1 in prod, and the builds `runs` names."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS, Capability.PIPELINES})
    Options = CdOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        now = self.clock.now()

        def deployed(env: str, version: str, digest: str) -> Deployment:
            return Deployment(
                "api", env, version, digest, now - timedelta(hours=2), "ci",
                Status.SUCCEEDED, Health.HEALTHY, self.name, now,
            )  # fmt: skip

        runs = tuple(
            pipeline_run(
                now,
                id=f"api#{n}",
                service="api",
                number=n,
                version=version,
                digest=digest,
                queued_at=now - timedelta(hours=n),
                source=self.name,
            )
            for n, (version, digest) in enumerate(self.options.runs, start=1)
        )
        deployments = (deployed("staging", "1.4.2", DIGEST), deployed("prod", "1.4.1", OLD))
        canaries: tuple[Canary, ...] = ()
        if self.options.canary:
            canaries = (
                Canary(
                    "api", "prod", "1.4.1", "1.4.3", 2, 6, 25, CanaryPhase.PROGRESSING,
                    now - timedelta(minutes=20), self.name, now,
                    canary_digest=self.options.canary,
                ),
            )  # fmt: skip
        return Observation(self.name, now, deployments=deployments, runs=runs, canaries=canaries)


class Recorder(Connector):
    """An evidence connector that only remembers what the hub told it."""

    CAPABILITIES = frozenset({Capability.EVIDENCE})
    USES_HTTP = False
    told: list[tuple[tuple[str, str, str], ...]] = []

    async def evidence(self) -> Sequence[Any]:
        Recorder.told.append(self.known_artifacts)
        return ()


def spec(name: str, cls: type[Connector], options: object) -> ConnectorSpec:
    return ConnectorSpec(name, name, cls, options, interval=10, timeout=10, stale_after=30)


def registry_spec() -> ConnectorSpec:
    options = opt.parse(
        OciOptions, {"url": "https://registry.example.test", "repository": "acme/{service}"}
    )
    return spec("registry", OciConnector, options)


@asynccontextmanager
async def hub_of(
    fake: FakeRegistry, *more: ConnectorSpec, runs: Any = (), canary: str = ""
) -> AsyncIterator[Hub]:
    specs = [spec("cd", Deployer, CdOptions(list(runs), canary)), registry_spec(), *more]
    hub = Hub(
        specs,
        ENVS,
        clock=FixedClock(T0),
        client_factory=lambda s: httpx.AsyncClient(transport=fake.transport()),
        live=False,
    )
    try:
        await hub.refresh("cd")
        yield hub
    finally:
        await hub.stop()


# known_artifacts -----------------------------------------------------------------------
async def test_the_hub_names_deployed_and_newest_built_digests_to_evidence_connectors() -> None:
    built = [(f"1.5.{n}", sha256(f"1.5.{n}".encode())) for n in range(4)]  # 1.5.0 newest
    Recorder.told = []
    fake = FakeRegistry()
    runs = [*built, ("1.6.0", "")]  # a run without a digest names nothing
    canary = sha256(b"the api image, 1.4.3")
    async with hub_of(
        fake, spec("rec", Recorder, None), spec("rec2", Recorder, None), runs=runs, canary=canary
    ) as hub:
        await hub.refresh("rec")
        await hub.refresh("rec2")
        cd = hub.connector("cd")
    newest = [("api", v, d) for v, d in built[:3]]  # the 3 newest built versions, newest first
    prod = [("api", "1.4.1", OLD), ("api", "1.4.3", canary)]  # deployed, and its canary
    assert Recorder.told[0] == (*prod, ("api", "1.4.2", DIGEST), *newest)
    assert Recorder.told[1] is Recorder.told[0]  # worked out once for the snapshot
    assert cd is not None and cd.known_artifacts == ()  # not an evidence connector


# End to end ----------------------------------------------------------------------------
def dsse_policy(tmp_path: Path, key: ed25519.Ed25519PrivateKey) -> ProvenanceConfig:
    pem = write_public(key, tmp_path / "attest.pub")
    return ProvenanceConfig(
        builders=[GITHUB_HOSTED],
        repository="acme/{service}",
        refs=["refs/heads/main"],
        public_keys=[pem],
    )


async def test_a_dsse_envelope_from_the_registry_passes_the_provenance_gate(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    fake = FakeRegistry()
    fake.attach("acme/api", DIGEST, envelope(key, payload(slsa_v1())), artifact_type=DSSE)
    async with hub_of(fake) as hub:
        snap = await hub.refresh("registry")
    docs = snap.evidence_for("api", "1.4.2", EvidenceKind.PROVENANCE)
    assert [d.source for d in docs] == ["registry"]
    gate = supply_gates.provenance_gate(snap, PROMOTE, dsse_policy(tmp_path, key))
    assert gate.status is GateStatus.PASS, gate.evidence
    facts = dict(gate.facts)
    assert facts["digest"] == DIGEST and facts["verification"] == "public key"
    assert facts["attestation"].startswith("acme/api@sha256:")


async def test_a_tampered_envelope_fails_the_gate(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signed = payload(slsa_v1())
    forged = payload(slsa_v1(repository="https://github.com/mallory/api"))
    fake = FakeRegistry()
    fake.attach("acme/api", DIGEST, envelope(key, forged, signed_body=signed), artifact_type=DSSE)
    async with hub_of(fake) as hub:
        snap = await hub.refresh("registry")
    gate = supply_gates.provenance_gate(snap, PROMOTE, dsse_policy(tmp_path, key))
    assert gate.status is GateStatus.FAIL, gate.evidence


async def test_a_sigstore_bundle_from_the_registry_verifies(tmp_path: Path) -> None:
    sigstore = PrivateSigstore()
    root = str(sigstore.write_trusted_root(tmp_path / "trusted_root.json"))
    fake = FakeRegistry()
    fake.attach("acme/api", DIGEST, sigstore.bundle(payload(slsa_v1())))
    policy = ProvenanceConfig(
        builders=[GITHUB_HOSTED],
        repository="acme/{service}",
        trusted_root=root,
        identities=[SigstoreIdentityConfig(GITHUB_ISSUER, "https://github.com/acme/*")],
    )
    async with hub_of(fake) as hub:
        snap = await hub.refresh("registry")
    gate = supply_gates.provenance_gate(snap, PROMOTE, policy)
    assert gate.status is GateStatus.PASS, gate.evidence
    assert dict(gate.facts)["verification"] == "sigstore"
    bundle = json.loads(snap.evidence_for("api", "1.4.2", EvidenceKind.PROVENANCE)[0].body)
    assert bundle["mediaType"].startswith("application/vnd.dev.sigstore.bundle")


async def test_a_registry_that_goes_down_leaves_the_gate_unknown(tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    fake = FakeRegistry()
    fake.attach("acme/api", DIGEST, envelope(key, payload(slsa_v1())), artifact_type=DSSE)
    policy = dsse_policy(tmp_path, key)
    async with hub_of(fake) as hub:
        before = supply_gates.provenance_gate(await hub.refresh("registry"), PROMOTE, policy)
        fake.faults[r"registry\.example\.test/v2/$"] = lambda r: httpx.Response(503)
        after = supply_gates.provenance_gate(await hub.refresh("registry"), PROMOTE, policy)
    assert before.status is GateStatus.PASS, before.evidence
    assert after.status is GateStatus.UNKNOWN, after.evidence
    assert "registry failing" in after.evidence and "503" in after.evidence


async def test_a_registry_down_from_the_start_gives_no_evidence_and_an_unknown_gate(
    tmp_path: Path,
) -> None:
    fake = FakeRegistry()
    fake.faults[r"registry\.example\.test"] = lambda r: httpx.Response(500)
    key = ed25519.Ed25519PrivateKey.generate()
    async with hub_of(fake) as hub:
        snap = await hub.refresh("registry")
    gate = supply_gates.provenance_gate(snap, PROMOTE, dsse_policy(tmp_path, key))
    assert gate.status is GateStatus.UNKNOWN, gate.evidence
    assert not snap.sources["registry"].ok
