"""The provenance gate: was the promoted image built by an allowed builder, from the
policy's repository and ref, and is that claim signed by someone the policy trusts?

Each attestation (a Sigstore bundle or a bare DSSE envelope) is judged on its own:
signature first (`cockpit.supply.signatures`), then the in-toto Statement and its SLSA
predicate (`cockpit.supply.intoto`). The gate passes when at least one attestation
verifies and satisfies every check; fails when one verifies but names another subject,
builder, repository or ref, or when a signature does not verify (nothing passing); and is
unknown otherwise: no attestation, a failed fetch, nothing to verify with, an unreadable
document. Attestations with another predicate (an SBOM attested for the same digest) are
not provenance and are left out.

Policy: `builders` are exact ids or fnmatch patterns and at least one is required;
`repository` ("owner/repo", `{service}` substituted; "host/owner/repo" pins the host too)
and `refs` (fnmatch patterns) constrain only when set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from cockpit.evidence_model import DSSE_ENVELOPE, SIGSTORE_BUNDLE
from cockpit.model import Evidence, EvidenceKind, Gate, GateStatus
from cockpit.sanitize import clean
from cockpit.supply import EvidenceError
from cockpit.supply.intoto import (
    INTOTO_PAYLOAD,
    Provenance,
    Statement,
    parse_provenance,
    parse_statement,
    repository_name,
)
from cockpit.supply.signatures import SignatureRejected, Signed, verify_bundle, verify_envelope

NAME = "provenance"
SHOWN = 3  # problems named in the evidence line before "+N more"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# Every bundle version's media type starts so: ...bundle+json;version=0.1, ...bundle.v0.3+json
_BUNDLE_PREFIX = SIGSTORE_BUNDLE.split("+", 1)[0]


@dataclass(frozen=True, slots=True)
class SigstoreIdentity:
    """Who may have signed a Sigstore bundle: the OIDC issuer (exact) and the certificate's
    SAN (fnmatch pattern, e.g. https://github.com/acme/*/.github/workflows/release.yml@*)."""

    issuer: str
    san: str


@dataclass(frozen=True, slots=True)
class ProvenancePolicy:
    builders: tuple[str, ...] = ()
    repository: str = ""
    refs: tuple[str, ...] = ()
    public_keys: tuple[str, ...] = ()  # PEM files, or inline PEM text
    trusted_root: str = ""  # a Sigstore trusted_root.json; "" = bundles stay unknown
    identities: tuple[SigstoreIdentity, ...] = ()


@dataclass(frozen=True, slots=True)
class _Judged:
    status: GateStatus
    why: str  # one clause, clean
    facts: tuple[tuple[str, str], ...] = ()
    provenance: bool = True  # False: a verified attestation of another predicate


def short(digest: str) -> str:
    """`sha256:0123456789ab…`: enough to tell two digests apart in one line."""
    return digest[:19] + "…" if len(digest) > 20 else digest


def _verify(doc: Evidence, policy: ProvenancePolicy) -> Signed:
    media = doc.media_type.split(";", 1)[0].strip().lower()
    if media.startswith(_BUNDLE_PREFIX):
        identities = [(i.issuer, i.san) for i in policy.identities]
        return verify_bundle(doc.body, policy.trusted_root, identities)
    if media == DSSE_ENVELOPE:
        return verify_envelope(doc.body, policy.public_keys)
    raise EvidenceError(f"unsupported attestation media type {clean(doc.media_type, limit=80)!r}")


def _signer_words(signed: Signed) -> str:
    if signed.method == "sigstore":
        return f"Sigstore certificate for {signed.signer} ({signed.issuer})"
    return f"key {short(signed.signer)}"


def _facts(
    digest: str, signed: Signed, statement: Statement, prov: Provenance | None, ref: str
) -> tuple[tuple[str, str], ...]:
    facts = [
        ("digest", digest),
        ("statement_digest", statement.digest),
        ("predicate_type", statement.predicate_type),
    ]
    if prov is not None:
        facts += [("builder", prov.builder), ("source_repository", prov.repository)]
        facts += [("ref", prov.ref)]
        facts += [("commit", prov.commit)] if prov.commit else []
    facts += [("verification", signed.method), ("signer", signed.signer)]
    facts += [("signer_issuer", signed.issuer)] if signed.issuer else []
    facts += [("attestation", ref)] if ref else []
    return tuple((k, clean(v, limit=200)) for k, v in facts)


def _mismatches(
    statement: Statement, prov: Provenance, policy: ProvenancePolicy, service: str, digest: str
) -> list[str]:
    out = []
    if digest.removeprefix("sha256:") not in statement.subjects:
        about = f"sha256:{statement.subjects[0]}" if statement.subjects else "no sha256 subject"
        out.append(f"attestation is for {short(about)}, not the promoted {short(digest)}")
    if not any(prov.builder == b or fnmatchcase(prov.builder, b) for b in policy.builders):
        out.append(f"builder {prov.builder or '(none)'} is not allowed")
    if policy.repository:
        want = policy.repository.replace("{service}", service)
        want_host, want_path = repository_name(want)
        host, path = repository_name(prov.repository)
        if path != want_path or (want_host and host != want_host):
            out.append(f"source {prov.repository or '(none)'} is not {want}")
    if policy.refs and not any(fnmatchcase(prov.ref, p) for p in policy.refs):
        out.append(f"ref {prov.ref or '(none)'} matches none of {', '.join(policy.refs)}")
    return [clean(m, limit=200) for m in out]


def _judge(doc: Evidence, policy: ProvenancePolicy, service: str, digest: str) -> _Judged:
    if doc.problem:
        return _Judged(GateStatus.UNKNOWN, clean(f"fetch failed: {doc.problem}", limit=200))
    try:
        signed = _verify(doc, policy)
    except SignatureRejected as exc:
        return _Judged(GateStatus.FAIL, clean(exc, limit=200), (("digest", digest),))
    except EvidenceError as exc:
        return _Judged(GateStatus.UNKNOWN, clean(exc, limit=200))
    if signed.payload_type != INTOTO_PAYLOAD:
        why = f"signed payload is {signed.payload_type!r}, not an in-toto statement"
        return _Judged(GateStatus.UNKNOWN, clean(why, limit=200))
    try:
        statement = parse_statement(signed.payload)
    except EvidenceError as exc:
        return _Judged(GateStatus.UNKNOWN, clean(exc, limit=200))
    if not statement.is_slsa_provenance:
        facts = _facts(digest, signed, statement, None, doc.ref)
        return _Judged(GateStatus.UNKNOWN, "", facts, provenance=False)
    try:
        prov = parse_provenance(statement)
    except EvidenceError as exc:
        return _Judged(GateStatus.UNKNOWN, clean(f"unreadable provenance: {exc}", limit=200))
    facts = _facts(digest, signed, statement, prov, doc.ref)
    if problems := _mismatches(statement, prov, policy, service, digest):
        return _Judged(GateStatus.FAIL, "; ".join(problems), facts)
    _, repo = repository_name(prov.repository)
    why = f"built by {prov.builder} from {repo}@{prov.ref}, verified with {_signer_words(signed)}"
    return _Judged(GateStatus.PASS, clean(why, limit=300), facts)


def _listed(whys: Sequence[str]) -> str:
    unique = list(dict.fromkeys(w for w in whys if w))
    text = "; ".join(unique[:SHOWN])
    return text + (f" +{len(unique) - SHOWN} more" if len(unique) > SHOWN else "")


def _of(judged: Sequence[_Judged], status: GateStatus) -> list[_Judged]:
    return [j for j in judged if j.provenance and j.status is status]


def provenance_gate(
    docs: Sequence[Evidence],
    policy: ProvenancePolicy,
    *,
    service: str,
    version: str,
    digest: str,
) -> Gate:
    """Judge the provenance attestations of `digest` ("sha256:<hex>"), the image being
    promoted as `version` of `service`, under `policy`."""

    def gate(status: GateStatus, evidence: str, facts: Sequence[tuple[str, str]] = ()) -> Gate:
        evidence = clean(evidence, limit=400)
        return Gate(NAME, status, evidence, service, version=version, facts=tuple(facts))

    want = digest.strip().lower()
    if not _DIGEST.fullmatch(want):
        return gate(GateStatus.UNKNOWN, f"no sha256 image digest to check (got {digest!r})")
    if not policy.builders:
        return gate(GateStatus.UNKNOWN, "the provenance policy allows no builder")
    mine = [d for d in docs if d.kind is EvidenceKind.PROVENANCE]
    if not mine:
        return gate(GateStatus.UNKNOWN, f"no provenance attestation for {short(want)}")
    judged = [_judge(d, policy, service, want) for d in mine]
    count = ("attestations", str(len(mine)))
    if passed := _of(judged, GateStatus.PASS):
        return gate(GateStatus.PASS, passed[0].why, (*passed[0].facts, count))
    if failed := _of(judged, GateStatus.FAIL):
        evidence = f"provenance rejected: {_listed([j.why for j in failed])}"
        return gate(GateStatus.FAIL, evidence, (*failed[0].facts, count))
    if unknown := _of(judged, GateStatus.UNKNOWN):
        evidence = f"provenance unknown: {_listed([j.why for j in unknown])}"
        return gate(GateStatus.UNKNOWN, evidence, (("digest", want), count))
    return gate(
        GateStatus.UNKNOWN,
        f"no SLSA provenance among {len(mine)} attestation(s) for {short(want)}",
        (("digest", want), count),
    )
