"""Whose signature is on an attestation: DSSE envelopes with configured keys, Sigstore bundles.

Three outcomes, which the provenance gate maps to its statuses:
- `Signed`: the payload verified, and who signed it (a key's fingerprint, or a Sigstore
  certificate's SAN and OIDC issuer);
- `SignatureRejected` (the gate fails): a signature is there and does not verify, or the
  Sigstore signer is not an allowed identity;
- `EvidenceError` (the gate is unknown): nothing to verify with (no key, no trust root),
  or the document cannot be read.

A DSSE signature that no configured key verifies is rejected, not unknown: its `keyid`
is an unauthenticated hint, so a payload changed after signing and a signature by a key
we do not trust look the same, and neither may pass. When a configured key could not be
read, the same envelope is unknown instead (that key might have verified it).

Sigstore bundles are verified by sigstore-python against the trusted root the policy
names (a trusted_root.json file): never the production root, never a TUF fetch.
cryptography and sigstore are imported by the functions that use them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.sanitize import clean
from cockpit.supply import EvidenceError
from cockpit.supply.intoto import b64decode, load_json

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
    from cryptography.x509 import Certificate

MAX_SIGNATURES = 16
MAX_KEY_FILE = 64 * 1024
PEM_START = "-----BEGIN "
ISSUER_V1_OID = "1.3.6.1.4.1.57264.1.1"  # Fulcio: the OIDC issuer, raw bytes (deprecated)
ISSUER_V2_OID = "1.3.6.1.4.1.57264.1.8"  # Fulcio: the OIDC issuer, DER UTF8String
OTHERNAME_OID = "1.3.6.1.4.1.57264.1.7"  # Fulcio: a SAN of the "username" kind
_EC_HASH = {"secp256r1": "SHA256", "secp384r1": "SHA384", "secp521r1": "SHA512"}


class SignatureRejected(Exception):
    """A signature that does not verify, or a signer the policy does not allow."""


@dataclass(frozen=True, slots=True)
class Signed:
    """A payload whose signature verified, and by whom."""

    payload_type: str
    payload: bytes
    method: str  # "public key" or "sigstore"
    signer: str  # "sha256:<hex>" of the key's DER SubjectPublicKeyInfo, or the cert's SAN
    issuer: str = ""  # the Sigstore certificate's OIDC issuer


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what a DSSE signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def _short(text: object) -> str:
    return clean(text, limit=160)


# -- DSSE envelopes with configured public keys ----------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[bytes, ...]


def open_envelope(body: bytes) -> Envelope:
    """A bare DSSE envelope `{payloadType, payload, signatures: [{keyid, sig}]}`."""
    doc = load_json(body, "the DSSE envelope")
    if not isinstance(doc, dict):
        raise EvidenceError("the DSSE envelope is not an object")
    payload_type = doc.get("payloadType")
    if not isinstance(payload_type, str) or not payload_type:
        raise EvidenceError("the DSSE envelope has no payloadType")
    sigs = doc.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise EvidenceError("the DSSE envelope has no signatures")
    if len(sigs) > MAX_SIGNATURES:
        raise EvidenceError(f"the DSSE envelope has over {MAX_SIGNATURES} signatures")
    signatures = tuple(
        b64decode(s.get("sig") if isinstance(s, dict) else None, f"signatures[{i}].sig")
        for i, s in enumerate(sigs)
    )
    return Envelope(payload_type, b64decode(doc.get("payload"), "payload"), signatures)


def fingerprint(key: PublicKeyTypes) -> str:
    from cryptography.hazmat.primitives import serialization

    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()


def load_keys(sources: Sequence[str]) -> tuple[list[PublicKeyTypes], list[str]]:
    """The usable keys among `sources` (PEM file paths or inline PEM), and why the others
    are not (by file name, to fit the gate's one line; never the file's bytes)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    keys: list[PublicKeyTypes] = []
    problems: list[str] = []
    for i, source in enumerate(sources):
        inline = source.lstrip().startswith(PEM_START)
        name = f"inline key {i + 1}" if inline else _short(Path(source).name)
        try:
            if inline:
                pem = source.encode()
            else:
                path = Path(source)
                if path.stat().st_size > MAX_KEY_FILE:
                    raise ValueError("file too large for a public key")
                pem = path.read_bytes()
            key = load_pem_public_key(pem)
        except OSError as exc:
            problems.append(f"{name}: unreadable ({type(exc).__name__})")
            continue
        except (ValueError, TypeError, UnsupportedAlgorithm):
            problems.append(f"{name}: not a PEM public key")
            continue
        curve_ok = isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_HASH
        rsa_ok = isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048
        if curve_ok or rsa_ok or isinstance(key, ed25519.Ed25519PublicKey):
            keys.append(key)
        else:
            problems.append(f"{name}: unsupported key type")
    return keys, problems


def _verifies(key: PublicKeyTypes, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey):
            algorithm = ec.ECDSA(getattr(hashes, _EC_HASH[key.curve.name])())
            candidates = [signature]
            size = (key.curve.key_size + 7) // 8
            if len(signature) == 2 * size:  # IEEE P1363 r||s, as some signers write it
                r, s = signature[:size], signature[size:]
                candidates.append(
                    encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
                )
            for candidate in candidates:
                try:
                    key.verify(candidate, data, algorithm)
                    return True
                except (InvalidSignature, ValueError):
                    continue
            return False
        if isinstance(key, rsa.RSAPublicKey):
            for pad in (
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                padding.PKCS1v15(),
            ):
                try:
                    key.verify(signature, data, pad, hashes.SHA256())
                    return True
                except InvalidSignature:
                    continue
    except (InvalidSignature, ValueError):
        return False
    return False


def verify_envelope(body: bytes, key_sources: Sequence[str]) -> Signed:
    """The envelope's payload, when one of its signatures verifies with a configured key."""
    envelope = open_envelope(body)
    if not key_sources:
        raise EvidenceError("no public key configured for DSSE envelopes")
    keys, problems = load_keys(key_sources)
    data = pae(envelope.payload_type, envelope.payload)
    for key in keys:
        if any(_verifies(key, sig, data) for sig in envelope.signatures):
            return Signed(envelope.payload_type, envelope.payload, "public key", fingerprint(key))
    if problems:
        raise EvidenceError("cannot check the DSSE signature: " + "; ".join(problems))
    raise SignatureRejected(
        f"DSSE signature does not verify with any of the {len(keys)} configured key(s)"
        " (payload changed after signing, or signed by another key)"
    )


# -- Sigstore bundles ----------------------------------------------------------------


def _der_utf8(value: bytes) -> str:
    """The text of a DER UTF8String (tag 0x0c), as Fulcio's v2 extensions hold it."""
    if len(value) < 2 or value[0] != 0x0C:
        raise ValueError("not a UTF8String")
    length, offset = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    if offset + length != len(value):
        raise ValueError("bad UTF8String length")
    return value[offset:].decode("utf-8")


def certificate_identity(cert: Certificate) -> tuple[str, tuple[str, ...]]:
    """The OIDC issuer and the SANs (URIs, emails, Fulcio other-names) of a signing cert."""
    from cryptography import x509

    issuer = ""
    for oid, decode in ((ISSUER_V2_OID, _der_utf8), (ISSUER_V1_OID, bytes.decode)):
        try:
            ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid)).value
        except x509.ExtensionNotFound:
            continue
        try:
            issuer = decode(getattr(ext, "value", b""))
        except (ValueError, UnicodeDecodeError):
            continue
        break
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return issuer, ()
    names = [*san.get_values_for_type(x509.UniformResourceIdentifier)]
    names += san.get_values_for_type(x509.RFC822Name)
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id.dotted_string == OTHERNAME_OID:
            names.append(other.value.decode("utf-8", "replace"))
    return issuer, tuple(names)


class _NotAllowed(Exception):
    pass


class _IdentityPolicy:
    """sigstore-python's VerificationPolicy: the issuer exactly, the SAN by fnmatch pattern."""

    def __init__(self, identities: Sequence[tuple[str, str]]) -> None:
        self.identities = tuple(identities)
        self.signer = ""
        self.issuer = ""

    def verify(self, cert: Certificate) -> None:
        issuer, names = certificate_identity(cert)
        for want_issuer, pattern in self.identities:
            if issuer != want_issuer:
                continue
            for name in names:
                if fnmatchcase(name, pattern):
                    self.signer, self.issuer = name, issuer
                    return
        shown = ", ".join(names[:3]) or "no SAN"
        raise _NotAllowed(f"signed by {shown} ({issuer or 'no issuer'}), not an allowed identity")


def _signed_timestamps(doc: dict[str, object]) -> bool:
    material = doc.get("verificationMaterial")
    data = material.get("timestampVerificationData") if isinstance(material, dict) else None
    return isinstance(data, dict) and bool(data.get("rfc3161Timestamps"))


def verify_bundle(body: bytes, trusted_root: str, identities: Sequence[tuple[str, str]]) -> Signed:
    """The DSSE payload of a Sigstore bundle (v0.1-v0.3), verified against `trusted_root`:
    certificate chain, SCT, transparency-log inclusion (proof, checkpoint, promise), the
    signer's identity, then the envelope's signature."""
    if not trusted_root:
        raise EvidenceError("no Sigstore trust root configured")
    if not identities:
        raise EvidenceError("no Sigstore signer identity configured")
    doc = load_json(body, "the Sigstore bundle")  # the bounds, before sigstore's own parser
    if not isinstance(doc, dict) or not isinstance(doc.get("dsseEnvelope"), dict):
        raise EvidenceError("the Sigstore bundle holds no DSSE envelope (not an attestation)")
    from sigstore.errors import Error as SigstoreError
    from sigstore.errors import MetadataError, VerificationError
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier

    try:
        root = TrustedRoot.from_file(trusted_root)
        verifier = Verifier(trusted_root=root)
        authorities = root.get_timestamp_authorities()
    except (OSError, ValueError, SigstoreError) as exc:
        raise EvidenceError(
            f"Sigstore trust root {_short(trusted_root)} unusable: {_short(exc)}"
        ) from None
    if _signed_timestamps(doc) and not authorities:
        # sigstore would reject the bundle; the gap is in our trust root, not the bundle.
        raise EvidenceError("the bundle has signed timestamps; the trust root has no TSA")
    try:
        bundle = Bundle.from_json(body)
    except Exception as exc:  # untrusted bytes through a third-party parser: never a crash
        raise EvidenceError(f"unusable Sigstore bundle: {_short(exc)}") from None
    policy = _IdentityPolicy(identities)
    try:
        payload_type, payload = verifier.verify_dsse(bundle, policy)
    except _NotAllowed as exc:
        raise SignatureRejected(str(exc)) from None
    except MetadataError as exc:  # the trusted root lacks what this bundle needs
        raise EvidenceError(f"Sigstore trust root incomplete: {_short(exc)}") from None
    except VerificationError as exc:
        raise SignatureRejected(f"Sigstore verification failed: {_short(exc)}") from None
    except Exception as exc:  # e.g. a certificate without the extensions sigstore reads
        raise EvidenceError(f"cannot verify the Sigstore bundle: {_short(exc)}") from None
    return Signed(payload_type, payload, "sigstore", policy.signer, policy.issuer)
