"""Attestations made in the test: SLSA statements, DSSE envelopes signed with generated keys.

The statements follow what GitHub's attest-build-provenance writes (SLSA v1, buildType
.../github-actions-buildtypes/workflow/v1) and the slsa-github-generator's v0.2 layout.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from cockpit.evidence_model import DSSE_ENVELOPE, SIGSTORE_BUNDLE, Evidence, EvidenceKind
from tests.fakes import T0

DIGEST_HEX = hashlib.sha256(b"the api image").hexdigest()
DIGEST = f"sha256:{DIGEST_HEX}"
OTHER_HEX = hashlib.sha256(b"another image").hexdigest()
GITHUB_HOSTED = "https://github.com/actions/runner/github-hosted"
GENERATOR = (
    "https://github.com/slsa-framework/slsa-github-generator/"
    ".github/workflows/generator_generic_slsa3.yml@refs/tags/v1.10.0"
)
COMMIT = "7d3f1c2b9a8e6f5d4c3b2a1908f7e6d5c4b3a291"
INTOTO = "application/vnd.in-toto+json"


def slsa_v1(
    *,
    digest_hex: str = DIGEST_HEX,
    builder: str = GITHUB_HOSTED,
    repository: str = "https://github.com/acme/api",
    ref: str = "refs/heads/main",
) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/api", "digest": {"sha256": digest_hex}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": ref,
                        "repository": repository,
                        "path": ".github/workflows/release.yml",
                    }
                },
                "internalParameters": {"github": {"event_name": "push"}},
                "resolvedDependencies": [
                    {"uri": f"git+{repository}@{ref}", "digest": {"gitCommit": COMMIT}}
                ],
            },
            "runDetails": {
                "builder": {"id": builder},
                "metadata": {
                    "invocationId": "https://github.com/acme/api/actions/runs/1/attempts/1"
                },
            },
        },
    }


def slsa_v02(
    *,
    digest_hex: str = DIGEST_HEX,
    builder: str = GENERATOR,
    uri: str = "git+https://github.com/acme/api@refs/tags/v1.4.2",
) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "ghcr.io/acme/api", "digest": {"sha256": digest_hex}}],
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "predicate": {
            "builder": {"id": builder},
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
            "invocation": {
                "configSource": {
                    "uri": uri,
                    "digest": {"sha1": COMMIT},
                    "entryPoint": ".github/workflows/release.yml",
                }
            },
        },
    }


def payload(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement).encode()


def pae(payload_type: str, body: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(body), body)


def sign(key: PrivateKeyTypes, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = hashes.SHA384() if key.curve.name == "secp384r1" else hashes.SHA256()
        return key.sign(data, ec.ECDSA(algorithm))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, rsa.RSAPrivateKey):
        from cryptography.hazmat.primitives.asymmetric import padding

        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return key.sign(data, pss, hashes.SHA256())
    raise TypeError(type(key))


def envelope(
    key: PrivateKeyTypes,
    body: bytes,
    *,
    signed_body: bytes | None = None,
    payload_type: str = INTOTO,
) -> bytes:
    """A DSSE envelope carrying `body`, signed over `signed_body` (default: `body`)."""
    sig = sign(key, pae(payload_type, body if signed_body is None else signed_body))
    return json.dumps(
        {
            "payloadType": payload_type,
            "payload": base64.b64encode(body).decode(),
            "signatures": [{"keyid": "test-key", "sig": base64.b64encode(sig).decode()}],
        }
    ).encode()


def write_public(key: PrivateKeyTypes, path: Path) -> str:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(path)


def fingerprint(key: PrivateKeyTypes) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def doc(
    body: bytes = b"",
    *,
    media_type: str = DSSE_ENVELOPE,
    problem: str = "",
    ref: str = "attestation 1",
) -> Evidence:
    return Evidence(
        EvidenceKind.PROVENANCE,
        "api",
        "1.4.2",
        "github",
        T0,
        media_type=media_type,
        body=body,
        subject=DIGEST,
        ref=ref,
        problem=problem,
    )


def bundle_doc(body: bytes) -> Evidence:
    return doc(body, media_type=SIGSTORE_BUNDLE)
