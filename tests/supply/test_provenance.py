"""The provenance gate on DSSE envelopes signed with keys made in the test.

Each case changes one thing from an attestation that passes, so a check that stopped
working turns its test red: the signature (tampered payload, another key), the subject,
the builder, the repository, the ref; and every input that must end in unknown (no
attestation, a failed fetch, no key, an unreadable document) rather than pass.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cockpit.model import GateStatus
from cockpit.supply.provenance import ProvenancePolicy, provenance_gate
from tests.supply.provenance_kit import (
    DIGEST,
    GENERATOR,
    GITHUB_HOSTED,
    INTOTO,
    OTHER_HEX,
    doc,
    envelope,
    fingerprint,
    pae,
    payload,
    slsa_v02,
    slsa_v1,
    write_public,
)

KEYS = {
    "ecdsa-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ecdsa-p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
    "rsa-3072": lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072),
}


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def policy_for(*keys: str, **overrides: object) -> ProvenancePolicy:
    fields: dict[str, object] = {
        "builders": (GITHUB_HOSTED,),
        "repository": "acme/{service}",
        "refs": ("refs/heads/main", "refs/tags/v*"),
        "public_keys": keys,
    }
    fields.update(overrides)
    return ProvenancePolicy(**fields)  # type: ignore[arg-type]


def judge(docs: list, policy: ProvenancePolicy, digest: str = DIGEST):  # type: ignore[no-untyped-def,type-arg]
    return provenance_gate(docs, policy, service="api", version="1.4.2", digest=digest)


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_a_statement_signed_by_a_configured_key_passes(kind: str, tmp_path: Path) -> None:
    signer: PrivateKeyTypes = KEYS[kind]()
    body = payload(slsa_v1())
    gate = judge(
        [doc(envelope(signer, body))], policy_for(write_public(signer, tmp_path / "k.pem"))
    )

    assert gate.status is GateStatus.PASS, gate.evidence
    assert gate.name == "provenance"
    assert GITHUB_HOSTED in gate.evidence
    assert "acme/api@refs/heads/main" in gate.evidence
    assert fingerprint(signer)[:19] in gate.evidence
    facts = dict(gate.facts)
    assert facts["digest"] == DIGEST
    assert facts["statement_digest"] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert facts["predicate_type"] == "https://slsa.dev/provenance/v1"
    assert facts["builder"] == GITHUB_HOSTED
    assert facts["source_repository"] == "https://github.com/acme/api"
    assert facts["ref"] == "refs/heads/main"
    assert facts["commit"] == "7d3f1c2b9a8e6f5d4c3b2a1908f7e6d5c4b3a291"
    assert facts["verification"] == "public key"
    assert facts["signer"] == fingerprint(signer)
    assert facts["attestations"] == "1"


def test_a_payload_changed_after_signing_fails_and_says_so(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    honest = payload(slsa_v1())
    forged = payload(slsa_v1(builder=GITHUB_HOSTED, ref="refs/heads/evil"))
    body = envelope(key, forged, signed_body=honest)

    gate = judge([doc(body)], policy_for(write_public(key, tmp_path / "k.pem"), refs=("*",)))

    assert gate.status is GateStatus.FAIL
    assert "does not verify" in gate.evidence
    assert "payload changed after signing" in gate.evidence


def test_a_signature_by_another_key_fails(key: ec.EllipticCurvePrivateKey, tmp_path: Path) -> None:
    """Fail, not unknown: the keyid is an unauthenticated hint, so another key's signature
    cannot be told from a tampered payload, and neither may soften to unknown."""
    stranger = ec.generate_private_key(ec.SECP256R1())
    gate = judge(
        [doc(envelope(stranger, payload(slsa_v1())))],
        policy_for(write_public(key, tmp_path / "k.pem")),
    )
    assert gate.status is GateStatus.FAIL
    assert "1 configured key" in gate.evidence


def test_an_unreadable_configured_key_makes_an_unverified_signature_unknown(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    keys = (write_public(other, tmp_path / "other.pem"), str(broken))

    gate = judge([doc(envelope(key, payload(slsa_v1())))], policy_for(*keys))

    assert gate.status is GateStatus.UNKNOWN
    assert "broken.pem" in gate.evidence
    assert "not a key" not in gate.evidence  # the path is named, never the key's bytes


def test_each_unusable_key_is_named_by_its_path_and_never_shown(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    private = tmp_path / "private.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    keys = (str(tmp_path / "missing.pem"), str(private), write_public(weak, tmp_path / "weak.pem"))

    gate = judge([doc(envelope(key, payload(slsa_v1())))], policy_for(*keys))

    assert gate.status is GateStatus.UNKNOWN
    assert "missing.pem: unreadable (FileNotFoundError)" in gate.evidence
    assert "private.pem: not a PEM public key" in gate.evidence
    assert "weak.pem: unsupported key type" in gate.evidence
    assert "PRIVATE KEY" not in gate.evidence
    assert dict(gate.facts) == {"digest": DIGEST, "attestations": "1"}


def test_an_attestation_for_another_image_fails(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1(digest_hex=OTHER_HEX)))
    gate = judge([doc(body)], policy_for(write_public(key, tmp_path / "k.pem")))

    assert gate.status is GateStatus.FAIL
    assert (
        f"attestation is for sha256:{OTHER_HEX[:12]}…, not the promoted {DIGEST[:19]}…"
        in gate.evidence
    )


def test_a_builder_not_on_the_allow_list_fails(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1(builder="https://ci.example.com/self-hosted")))
    gate = judge([doc(body)], policy_for(write_public(key, tmp_path / "k.pem")))

    assert gate.status is GateStatus.FAIL
    assert "builder https://ci.example.com/self-hosted is not allowed" in gate.evidence
    assert dict(gate.facts)["builder"] == "https://ci.example.com/self-hosted"


def test_a_builder_pattern_allows_every_release_of_a_generator(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    pattern = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v*"
    body = envelope(key, payload(slsa_v1(builder=GENERATOR)))
    gate = judge(
        [doc(body)], policy_for(write_public(key, tmp_path / "k.pem"), builders=(pattern,))
    )
    assert gate.status is GateStatus.PASS, gate.evidence


def test_a_build_from_another_repository_fails(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1(repository="https://github.com/mallory/api")))
    gate = judge([doc(body)], policy_for(write_public(key, tmp_path / "k.pem")))

    assert gate.status is GateStatus.FAIL
    assert "source https://github.com/mallory/api is not acme/api" in gate.evidence


def test_a_build_from_a_ref_the_policy_does_not_name_fails(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1(ref="refs/heads/feature/x")))
    gate = judge([doc(body)], policy_for(write_public(key, tmp_path / "k.pem")))

    assert gate.status is GateStatus.FAIL
    assert "ref refs/heads/feature/x matches none of refs/heads/main, refs/tags/v*" in gate.evidence


def test_every_mismatch_of_one_attestation_is_named(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    statement = slsa_v1(
        digest_hex=OTHER_HEX,
        builder="https://x.test/b",
        repository="https://github.com/m/r",
        ref="refs/pull/1",
    )
    gate = judge(
        [doc(envelope(key, payload(statement)))], policy_for(write_public(key, tmp_path / "k.pem"))
    )

    assert gate.status is GateStatus.FAIL
    for words in (
        "attestation is for",
        "builder https://x.test/b",
        "source https://github.com/m/r",
        "ref refs/pull/1",
    ):
        assert words in gate.evidence


def test_no_attestation_is_unknown() -> None:
    gate = judge([], policy_for())
    assert gate.status is GateStatus.UNKNOWN
    assert gate.evidence == f"no provenance attestation for {DIGEST[:19]}…"


def test_a_failed_fetch_is_unknown_with_its_problem() -> None:
    gate = judge([doc(problem="HTTP 503 from api.github.com")], policy_for())
    assert gate.status is GateStatus.UNKNOWN
    assert "fetch failed: HTTP 503 from api.github.com" in gate.evidence


def test_an_envelope_with_no_key_configured_is_unknown(key: ec.EllipticCurvePrivateKey) -> None:
    gate = judge([doc(envelope(key, payload(slsa_v1())))], policy_for())
    assert gate.status is GateStatus.UNKNOWN
    assert "no public key configured" in gate.evidence


def test_a_policy_without_builders_is_unknown_not_pass(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1()))
    gate = judge([doc(body)], policy_for(write_public(key, tmp_path / "k.pem"), builders=()))
    assert gate.status is GateStatus.UNKNOWN


@pytest.mark.parametrize("digest", ["", "sha256:abc", "md5:" + "0" * 32, "latest"])
def test_no_usable_image_digest_is_unknown(
    digest: str, key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1()))
    gate = judge([doc(body)], policy_for(write_public(key, tmp_path / "k.pem")), digest=digest)
    assert gate.status is GateStatus.UNKNOWN
    assert "no sha256 image digest" in gate.evidence


def test_slsa_v02_provenance_from_the_generator_passes(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v02()))
    policy = policy_for(write_public(key, tmp_path / "k.pem"), builders=(GENERATOR,))

    gate = judge([doc(body)], policy)

    assert gate.status is GateStatus.PASS, gate.evidence
    facts = dict(gate.facts)
    assert facts["predicate_type"] == "https://slsa.dev/provenance/v0.2"
    assert facts["ref"] == "refs/tags/v1.4.2"
    assert "acme/api@refs/tags/v1.4.2" in gate.evidence


@pytest.mark.parametrize(
    "repository",
    [
        "https://github.com/Acme/API",
        "https://github.com/acme/api.git",
        "git+https://github.com/acme/api@refs/heads/main",
        "https://github.com/acme/api/",
    ],
)
def test_the_repository_is_compared_as_owner_and_name(
    repository: str, key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1(repository=repository)))
    gate = judge(
        [doc(body)], policy_for(write_public(key, tmp_path / "k.pem"), repository="ACME/{service}")
    )
    assert gate.status is GateStatus.PASS, gate.evidence


def test_a_policy_naming_a_host_refuses_the_same_name_on_another_host(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1(repository="https://ghe.example.com/acme/api")))
    pem = write_public(key, tmp_path / "k.pem")
    assert (
        judge([doc(body)], policy_for(pem, repository="github.com/acme/api")).status
        is GateStatus.FAIL
    )
    assert (
        judge([doc(body)], policy_for(pem, repository="ghe.example.com/acme/api")).status
        is GateStatus.PASS
    )


def test_one_good_attestation_among_bad_ones_passes(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    bad = doc(envelope(key, payload(slsa_v1(ref="refs/heads/dev"))), ref="a1")
    good = doc(envelope(key, payload(slsa_v1())), ref="a2")

    gate = judge(
        [bad, doc(problem="timeout"), good], policy_for(write_public(key, tmp_path / "k.pem"))
    )

    assert gate.status is GateStatus.PASS
    assert dict(gate.facts)["attestation"] == "a2"
    assert dict(gate.facts)["attestations"] == "3"


def test_failures_of_many_attestations_are_bounded_in_one_line(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    docs = [doc(envelope(key, payload(slsa_v1(builder=f"https://ci.test/{i}")))) for i in range(5)]
    gate = judge(docs, policy_for(write_public(key, tmp_path / "k.pem")))

    assert gate.status is GateStatus.FAIL
    assert gate.evidence.count("is not allowed") == 3
    assert gate.evidence.endswith("+2 more")
    assert "\n" not in gate.evidence


def test_a_verified_attestation_of_another_predicate_is_not_provenance(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    sbom = {**slsa_v1(), "predicateType": "https://spdx.dev/Document/v2.3", "predicate": {}}
    gate = judge(
        [doc(envelope(key, payload(sbom)))], policy_for(write_public(key, tmp_path / "k.pem"))
    )
    assert gate.status is GateStatus.UNKNOWN
    assert "no SLSA provenance among 1 attestation(s)" in gate.evidence


def test_an_inline_pem_key_verifies(key: ec.EllipticCurvePrivateKey) -> None:
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    gate = judge([doc(envelope(key, payload(slsa_v1())))], policy_for(pem))
    assert gate.status is GateStatus.PASS, gate.evidence


def test_a_raw_r_s_ecdsa_signature_verifies(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import hashes

    body = payload(slsa_v1())
    r, s = decode_dss_signature(key.sign(pae(INTOTO, body), ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    env = {
        "payloadType": INTOTO,
        "payload": base64.b64encode(body).decode(),
        "signatures": [{"sig": base64.b64encode(raw).decode()}],
    }

    gate = judge([doc(json.dumps(env).encode())], policy_for(write_public(key, tmp_path / "k.pem")))

    assert gate.status is GateStatus.PASS, gate.evidence


def test_unpadded_url_safe_base64_is_read_as_dsse_allows(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1()))
    env = json.loads(body)
    env["payload"] = base64.urlsafe_b64encode(base64.b64decode(env["payload"])).decode().rstrip("=")
    sig = env["signatures"][0]
    sig["sig"] = base64.urlsafe_b64encode(base64.b64decode(sig["sig"])).decode().rstrip("=")

    gate = judge([doc(json.dumps(env).encode())], policy_for(write_public(key, tmp_path / "k.pem")))

    assert gate.status is GateStatus.PASS, gate.evidence


def test_a_payload_that_is_not_an_in_toto_statement_is_unknown(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1()), payload_type="text/plain")
    gate = judge([doc(body)], policy_for(write_public(key, tmp_path / "k.pem")))
    assert gate.status is GateStatus.UNKNOWN
    assert "not an in-toto statement" in gate.evidence


def test_an_unsupported_media_type_is_unknown(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    body = envelope(key, payload(slsa_v1()))
    gate = judge(
        [doc(body, media_type="application/json")],
        policy_for(write_public(key, tmp_path / "k.pem")),
    )
    assert gate.status is GateStatus.UNKNOWN
    assert "unsupported attestation media type" in gate.evidence


# -- bounded, untrusted input --------------------------------------------------------


def _unknown(body: bytes, key: ec.EllipticCurvePrivateKey, tmp_path: Path) -> str:
    gate = judge([doc(body)], policy_for(write_public(key, tmp_path / "k.pem")))
    assert gate.status is GateStatus.UNKNOWN, gate.evidence
    return gate.evidence


def test_a_body_over_4_mib_is_refused_unread(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    huge = b'{"payloadType": "x", "pad": "' + b"a" * (4 * 1024 * 1024) + b'"}'
    assert "over the 4,194,304-byte limit" in _unknown(huge, key, tmp_path)


def test_absurd_nesting_is_unknown_not_a_crash(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    assert "nests deeper" in _unknown(b"[" * 200_000 + b"]" * 200_000, key, tmp_path)
    deep: object = {"_type": "https://in-toto.io/Statement/v1"}
    for _ in range(100):
        deep = {"x": deep}
    assert "nests deeper" in _unknown(envelope(key, payload(deep)), key, tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["not base64!", "", "QUJD\x00", 42])
def test_a_payload_that_is_not_base64_is_unknown(
    bad: object, key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    env = {"payloadType": INTOTO, "payload": bad, "signatures": [{"sig": "AAAA"}]}
    assert "payload is not" in _unknown(json.dumps(env).encode(), key, tmp_path)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff\xfe",
        b"null",
        b"[]",
        b'{"payloadType": "x"}',
        b'{"payloadType": "x", "payload": "e30=", "signatures": "s"}',
    ],
)
def test_an_unreadable_envelope_is_unknown(
    body: bytes, key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    _unknown(body, key, tmp_path)


@pytest.mark.parametrize(
    "statement",
    [
        {"_type": "https://example.com/other"},
        {"_type": "https://in-toto.io/Statement/v1", "subject": []},
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"digest": {"sha256": "zz"}}],
            "predicateType": "x",
        },
        {**slsa_v1(), "predicate": {"runDetails": {"builder": {"id": 7}}}},
        {**slsa_v1(), "predicate": []},
    ],
)
def test_a_malformed_statement_is_unknown(
    statement: dict, key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:  # type: ignore[type-arg]
    _unknown(envelope(key, payload(statement)), key, tmp_path)


def test_hostile_text_in_a_statement_is_made_inert(
    key: ec.EllipticCurvePrivateKey, tmp_path: Path
) -> None:
    builder = "https://evil.test/\x1b[31m[bold]red[/bold]\u202e"
    gate = judge(
        [doc(envelope(key, payload(slsa_v1(builder=builder))))],
        policy_for(write_public(key, tmp_path / "k.pem")),
    )

    assert gate.status is GateStatus.FAIL
    assert "\x1b" not in gate.evidence and "\u202e" not in gate.evidence
    assert "^[" in gate.evidence
    assert all("\x1b" not in value for _, value in gate.facts)
