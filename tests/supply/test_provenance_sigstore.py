"""The provenance gate on Sigstore bundles from a Sigstore made in the test.

`tests.supply.sigstore_kit` makes a CA, a CT log key and a Rekor log key, writes them as a
trusted_root.json, and signs bundles the way GitHub's attestations API returns them
(v0.3, DSSE, a dsse/0.0.1 log entry with inclusion proof, checkpoint and promise).
sigstore-python verifies them for real: the chain, the SCT, the log entry, the identity,
the envelope. No test reaches the network (sockets are refused) or the production root.
"""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import pytest

from cockpit.model import GateStatus
from cockpit.supply.provenance import ProvenancePolicy, SigstoreIdentity, provenance_gate
from tests.supply.provenance_kit import DIGEST, GITHUB_HOSTED, bundle_doc, payload, slsa_v1
from tests.supply.sigstore_kit import GITHUB_ISSUER, WORKFLOW_SAN, PrivateSigstore

ALLOWED = SigstoreIdentity(
    GITHUB_ISSUER, "https://github.com/acme/*/.github/workflows/release.yml@refs/*"
)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network use during verification: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def sigstore() -> PrivateSigstore:
    return PrivateSigstore()


@pytest.fixture(scope="module")
def root(sigstore: PrivateSigstore, tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(
        sigstore.write_trusted_root(tmp_path_factory.mktemp("sigstore") / "trusted_root.json")
    )


def policy(root: str, *identities: SigstoreIdentity, **overrides: object) -> ProvenancePolicy:
    fields: dict[str, object] = {
        "builders": (GITHUB_HOSTED,),
        "repository": "acme/{service}",
        "refs": ("refs/heads/main",),
        "trusted_root": root,
        "identities": identities or (ALLOWED,),
    }
    fields.update(overrides)
    return ProvenancePolicy(**fields)  # type: ignore[arg-type]


def judge(body: bytes, policy: ProvenancePolicy):  # type: ignore[no-untyped-def]
    return provenance_gate(
        [bundle_doc(body)], policy, service="api", version="1.4.2", digest=DIGEST
    )


def test_a_bundle_from_the_trusted_sigstore_passes(sigstore: PrivateSigstore, root: str) -> None:
    gate = judge(sigstore.bundle(payload(slsa_v1())), policy(root))

    assert gate.status is GateStatus.PASS, gate.evidence
    assert f"Sigstore certificate for {WORKFLOW_SAN} ({GITHUB_ISSUER})" in gate.evidence
    assert "acme/api@refs/heads/main" in gate.evidence
    facts = dict(gate.facts)
    assert facts["verification"] == "sigstore"
    assert facts["signer"] == WORKFLOW_SAN
    assert facts["signer_issuer"] == GITHUB_ISSUER
    assert facts["builder"] == GITHUB_HOSTED


@pytest.mark.parametrize("version", ["0.1", "0.2"])
def test_older_bundle_versions_pass(sigstore: PrivateSigstore, root: str, version: str) -> None:
    gate = judge(sigstore.bundle(payload(slsa_v1()), version=version), policy(root))
    assert gate.status is GateStatus.PASS, gate.evidence


def test_the_legacy_bundle_media_type_passes_too(sigstore: PrivateSigstore, root: str) -> None:
    body = json.loads(sigstore.bundle(payload(slsa_v1())))
    body["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.3"
    gate = provenance_gate(
        [bundle_doc(json.dumps(body).encode())],
        policy(root),
        service="api",
        version="1.4.2",
        digest=DIGEST,
    )
    assert gate.status is GateStatus.PASS, gate.evidence


def test_a_signer_outside_the_allowed_identities_fails(
    sigstore: PrivateSigstore, root: str
) -> None:
    san = "https://github.com/mallory/api/.github/workflows/release.yml@refs/heads/main"
    gate = judge(sigstore.bundle(payload(slsa_v1()), san=san), policy(root))

    assert gate.status is GateStatus.FAIL
    assert f"signed by {san} ({GITHUB_ISSUER}), not an allowed identity" in gate.evidence


def test_the_right_san_from_another_issuer_fails(sigstore: PrivateSigstore, root: str) -> None:
    gate = judge(
        sigstore.bundle(payload(slsa_v1()), issuer="https://issuer.evil.test"), policy(root)
    )

    assert gate.status is GateStatus.FAIL
    assert "https://issuer.evil.test" in gate.evidence
    assert "not an allowed identity" in gate.evidence


def test_a_statement_changed_after_signing_fails(sigstore: PrivateSigstore, root: str) -> None:
    honest = payload(slsa_v1(ref="refs/heads/main"))
    forged = payload(slsa_v1(ref="refs/heads/main", repository="https://github.com/acme/api-fork"))
    gate = judge(sigstore.bundle(forged, signed_payload=honest), policy(root, repository=""))

    assert gate.status is GateStatus.FAIL
    assert "Sigstore verification failed" in gate.evidence
    assert "invalid signature" in gate.evidence


def test_a_bundle_from_another_sigstore_fails(root: str) -> None:
    stranger = PrivateSigstore()  # its own CA and logs, none of them in our trusted root
    gate = judge(stranger.bundle(payload(slsa_v1())), policy(root))

    assert gate.status is GateStatus.FAIL
    assert "Sigstore verification failed" in gate.evidence
    assert "certificate chain" in gate.evidence


def test_a_verified_bundle_still_answers_to_the_provenance_checks(
    sigstore: PrivateSigstore, root: str
) -> None:
    body = sigstore.bundle(payload(slsa_v1(builder="https://ci.example.com/self-hosted")))
    gate = judge(body, policy(root))

    assert gate.status is GateStatus.FAIL
    assert "builder https://ci.example.com/self-hosted is not allowed" in gate.evidence
    assert dict(gate.facts)["signer"] == WORKFLOW_SAN


def test_a_bundle_without_a_trust_root_is_unknown(sigstore: PrivateSigstore) -> None:
    gate = judge(sigstore.bundle(payload(slsa_v1())), policy(""))

    assert gate.status is GateStatus.UNKNOWN
    assert "no Sigstore trust root configured" in gate.evidence


def test_a_bundle_without_identities_is_unknown(sigstore: PrivateSigstore, root: str) -> None:
    no_identities = ProvenancePolicy(builders=(GITHUB_HOSTED,), trusted_root=root)
    gate = judge(sigstore.bundle(payload(slsa_v1())), no_identities)

    assert gate.status is GateStatus.UNKNOWN
    assert "no Sigstore signer identity configured" in gate.evidence


def test_a_missing_or_broken_trust_root_is_unknown(
    sigstore: PrivateSigstore, tmp_path: Path
) -> None:
    body = sigstore.bundle(payload(slsa_v1()))
    missing = judge(body, policy(str(tmp_path / "nowhere.json")))
    broken = tmp_path / "broken.json"
    broken.write_text('{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}')

    assert missing.status is GateStatus.UNKNOWN
    assert "nowhere.json unusable" in missing.evidence
    assert judge(body, policy(str(broken))).status is GateStatus.UNKNOWN


def test_a_trust_root_without_ct_logs_is_unknown_not_fail(
    sigstore: PrivateSigstore, tmp_path: Path
) -> None:
    incomplete = sigstore.trusted_root()
    incomplete["ctlogs"] = []
    path = tmp_path / "trusted_root.json"
    path.write_text(json.dumps(incomplete))

    gate = judge(sigstore.bundle(payload(slsa_v1())), policy(str(path)))

    assert gate.status is GateStatus.UNKNOWN
    assert "trust root incomplete" in gate.evidence


def test_a_signed_timestamp_the_trust_root_cannot_check_is_unknown(
    sigstore: PrivateSigstore, root: str
) -> None:
    """A Rekor v2-era bundle carries RFC 3161 timestamps; with no TSA in our trusted root
    sigstore-python refuses it, and the gap is ours, so unknown rather than fail."""
    doc = json.loads(sigstore.bundle(payload(slsa_v1())))
    stamps = doc["verificationMaterial"]["timestampVerificationData"]
    stamps["rfc3161Timestamps"] = [{"signedTimestamp": base64.b64encode(b"stamp").decode()}]

    gate = judge(json.dumps(doc).encode(), policy(root))

    assert gate.status is GateStatus.UNKNOWN
    assert "the trust root has no TSA" in gate.evidence


def _mangled(body: bytes, change: str) -> bytes:
    doc = json.loads(body)
    material = doc["verificationMaterial"]
    if change == "no log entry":
        material["tlogEntries"] = []
    elif change == "certificate garbage":
        material["certificate"]["rawBytes"] = base64.b64encode(b"not a certificate").decode()
    elif change == "unknown media type":
        doc["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=9"
    elif change == "blob signature":
        del doc["dsseEnvelope"]
        doc["messageSignature"] = {"signature": "AAAA"}
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "change", ["no log entry", "certificate garbage", "unknown media type", "blob signature"]
)
def test_an_unusable_bundle_is_unknown(sigstore: PrivateSigstore, root: str, change: str) -> None:
    gate = judge(_mangled(sigstore.bundle(payload(slsa_v1())), change), policy(root))
    assert gate.status is GateStatus.UNKNOWN, gate.evidence


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"[" * 100_000, b'{"mediaType": 1}'])
def test_an_unreadable_bundle_is_unknown(body: bytes, root: str) -> None:
    assert judge(body, policy(root)).status is GateStatus.UNKNOWN


def test_a_tampered_log_entry_fails(sigstore: PrivateSigstore, root: str) -> None:
    doc = json.loads(sigstore.bundle(payload(slsa_v1())))
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 60)  # the SET no longer signs it

    gate = judge(json.dumps(doc).encode(), policy(root))

    assert gate.status is GateStatus.FAIL
    assert "Sigstore verification failed" in gate.evidence
