"""A private Sigstore made in the test: CA, CT log and Rekor log keys, and DSSE bundles.

Everything the verifier checks is generated here, offline, so a bundle verifies against
a trusted_root.json written next to it and nothing else (never the production root):

- a root CA (P-256) that issues a Fulcio-style leaf: empty subject, critical URI SAN (the
  workflow identity), key usage digitalSignature, EKU codeSigning, the OIDC issuer in
  both extensions (1.3.6.1.4.1.57264.1.1 raw, 1.3.6.1.4.1.57264.1.8 UTF8String), and an
  embedded precertificate SCT signed by the CT log key (RFC 6962 §3.2);
- a Rekor v1 `dsse` 0.0.1 entry for the envelope in a one-leaf log: the inclusion proof
  (the root is the leaf hash, RFC 6962 §2.1), a checkpoint signed as a signed note, and
  the inclusion promise (SET: the log key's signature over the RFC 8785 entry summary).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
SCT_LIST = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW_SAN = "https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main"
SIGNED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the log's integrated time
INTOTO = "application/vnd.in-toto+json"
BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _spki(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    return hashlib.sha256(_spki(key)).digest()


def _sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def _der_octet_string(data: bytes) -> bytes:
    n = len(data)
    if n < 0x80:
        return b"\x04" + bytes([n]) + data
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\x04" + bytes([0x80 | len(size)]) + size + data


def _der_utf8(text: str) -> bytes:
    raw = text.encode()
    assert len(raw) < 0x80
    return b"\x0c" + bytes([len(raw)]) + raw


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE's pre-authentication encoding, the bytes a DSSE signature covers."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(body), body)


@dataclass
class PrivateSigstore:
    """One made-up Sigstore instance: its keys, and the trusted root that names them."""

    ca_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    ct_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    log_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    origin: str = "rekor.test.invalid - 1"

    def __post_init__(self) -> None:
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cockpit-test"),
                x509.NameAttribute(NameOID.COMMON_NAME, "cockpit-test-fulcio"),
            ]
        )
        public = self.ca_key.public_key()
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(SIGNED_AT - timedelta(days=365))
            .not_valid_after(SIGNED_AT + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )

    # -- the trusted root -------------------------------------------------------------

    def trusted_root(self) -> dict[str, object]:
        start = (SIGNED_AT - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def log(key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, object]:
            public = key.public_key()
            return {
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": _b64(_spki(public)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": start},
                },
                "logId": {"keyId": _b64(_key_id(public))},
            }

        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(self.log_key, "https://rekor.test.invalid")],
            "certificateAuthorities": [
                {
                    "subject": {
                        "organization": "cockpit-test",
                        "commonName": "cockpit-test-fulcio",
                    },
                    "uri": "https://fulcio.test.invalid",
                    "certChain": {
                        "certificates": [
                            {
                                "rawBytes": _b64(
                                    self.ca_cert.public_bytes(serialization.Encoding.DER)
                                )
                            }
                        ]
                    },
                    "validFor": {"start": start},
                }
            ],
            "ctlogs": [log(self.ct_key, "https://ctfe.test.invalid")],
            "timestampAuthorities": [],
        }

    def write_trusted_root(self, path: Path) -> Path:
        path.write_text(json.dumps(self.trusted_root(), indent=2))
        return path

    # -- the signing certificate --------------------------------------------------------

    def _leaf(
        self, key: ec.EllipticCurvePrivateKey, san: str, issuer: str, sct_list: bytes, serial: int
    ) -> x509.Certificate:
        ca_public = self.ca_key.public_key()
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(SIGNED_AT - timedelta(minutes=1))
            .not_valid_after(SIGNED_AT + timedelta(minutes=10))
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
            )
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(san)]), critical=True
            )
            .add_extension(x509.UnrecognizedExtension(ISSUER_V1, issuer.encode()), critical=False)
            .add_extension(x509.UnrecognizedExtension(ISSUER_V2, _der_utf8(issuer)), critical=False)
            .add_extension(
                x509.UnrecognizedExtension(SCT_LIST, _der_octet_string(sct_list)), critical=False
            )
            .sign(self.ca_key, hashes.SHA256())
        )

    def _sct_list(self, tbs: bytes, when: datetime) -> bytes:
        """One precertificate SCT over `tbs` (RFC 6962 §3.2), as a serialized SCT list."""
        millis = int(when.timestamp()) * 1000
        issuer_key_hash = _key_id(self.ca_key.public_key())
        signed_entry = issuer_key_hash + len(tbs).to_bytes(3, "big") + tbs
        digitally_signed = struct.pack("!BBQH", 0, 0, millis, 1) + signed_entry + b"\x00\x00"
        signature = _sign(self.ct_key, digitally_signed)
        sct = (
            b"\x00"
            + _key_id(self.ct_key.public_key())
            + struct.pack("!Q", millis)
            + b"\x00\x00"
            + b"\x04\x03"
            + struct.pack("!H", len(signature))
            + signature
        )
        one = struct.pack("!H", len(sct)) + sct
        return struct.pack("!H", len(one)) + one

    def certificate(
        self,
        key: ec.EllipticCurvePrivateKey,
        *,
        san: str = WORKFLOW_SAN,
        issuer: str = GITHUB_ISSUER,
    ) -> x509.Certificate:
        """A leaf as Fulcio issues it, with its SCT embedded (built twice: the SCT signs
        the certificate without the SCT list)."""
        serial = x509.random_serial_number()
        draft = self._leaf(key, san, issuer, b"\x00\x00", serial)
        sct_list = self._sct_list(draft.tbs_precertificate_bytes, SIGNED_AT - timedelta(seconds=30))
        leaf = self._leaf(key, san, issuer, sct_list, serial)
        assert leaf.tbs_precertificate_bytes == draft.tbs_precertificate_bytes
        return leaf

    # -- the log entry and the bundle -----------------------------------------------------

    def bundle(
        self,
        statement: bytes,
        *,
        san: str = WORKFLOW_SAN,
        issuer: str = GITHUB_ISSUER,
        signed_payload: bytes | None = None,
        version: str = "0.3",
    ) -> bytes:
        """A Sigstore bundle of `statement`: v0.3 as GitHub's attestations API returns it,
        or "0.2"/"0.1" (the certificate in a one-element x509CertificateChain).

        `signed_payload`, when given, is what was signed and logged; the envelope then
        carries `statement` instead: a payload changed after signing.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.certificate(key, san=san, issuer=issuer)
        signed = statement if signed_payload is None else signed_payload
        signature = _sign(key, pae(INTOTO, signed))
        envelope = {
            "payload": _b64(statement),
            "payloadType": INTOTO,
            "signatures": [{"sig": _b64(signature)}],
        }
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        body = json.dumps(
            {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(json.dumps(envelope).encode()).hexdigest(),
                    },
                    "payloadHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(signed).hexdigest(),
                    },
                    "signatures": [{"signature": _b64(signature), "verifier": _b64(cert_pem)}],
                },
            },
            separators=(",", ":"),
        ).encode()
        log_id = _key_id(self.log_key.public_key())
        integrated = int(SIGNED_AT.timestamp())
        root = hashlib.sha256(b"\x00" + body).digest()  # a one-leaf tree: the leaf hash
        note = f"{self.origin}\n1\n{_b64(root)}\n"
        note_sig = _b64(log_id[:4] + _sign(self.log_key, note.encode()))
        checkpoint = f"{note}\n\u2014 {self.origin.split()[0]} {note_sig}\n"
        summary = rfc8785.dumps(
            {
                "body": _b64(body),
                "integratedTime": integrated,
                "logID": log_id.hex(),
                "logIndex": 0,
            }
        )
        entry = {
            "logIndex": "0",
            "logId": {"keyId": _b64(log_id)},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"},
            "integratedTime": str(integrated),
            "inclusionPromise": {"signedEntryTimestamp": _b64(_sign(self.log_key, summary))},
            "inclusionProof": {
                "logIndex": "0",
                "rootHash": _b64(root),
                "treeSize": "1",
                "hashes": [],
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": _b64(body),
        }
        raw_cert = {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))}
        material: dict[str, object] = {
            "tlogEntries": [entry],
            "timestampVerificationData": {"rfc3161Timestamps": []},
        }
        if version == "0.3":
            media_type = BUNDLE_V03
            material["certificate"] = raw_cert
        else:
            media_type = f"application/vnd.dev.sigstore.bundle+json;version={version}"
            material["x509CertificateChain"] = {"certificates": [raw_cert]}
        bundle = {
            "mediaType": media_type,
            "verificationMaterial": material,
            "dsseEnvelope": envelope,
        }
        return json.dumps(bundle).encode()
