"""In-toto Statements and the SLSA provenance they carry, read from untrusted bytes.

Everything here is bounded: a document over 4 MiB, JSON nested deeper than 64 levels,
base64 that is not base64, or a field of the wrong type is an `EvidenceError` (the gate
is then unknown), never a crash. Only the fields the provenance gate judges are read:

- the Statement (https://in-toto.io/Statement/v0.1 or v1): `subject[].digest.sha256`,
  `predicateType`, `predicate`;
- SLSA provenance v1 (https://slsa.dev/provenance/v1) as GitHub's generator writes it:
  `runDetails.builder.id`, `buildDefinition.externalParameters.workflow.{repository, ref,
  path}`, the commit from `resolvedDependencies[].digest.gitCommit`;
- SLSA provenance v0.2: `builder.id`, `invocation.configSource.{uri, entryPoint}` (the
  uri is `git+https://github.com/owner/repo@refs/heads/main`), `digest.sha1`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cockpit.supply import EvidenceError, documents

MAX_BODY = 4 * 1024 * 1024  # bytes; an attestation bundle is a few KiB
MAX_DEPTH = 64  # JSON nesting; a SLSA statement needs about 8
MAX_SUBJECTS = 1024
INTOTO_PAYLOAD = "application/vnd.in-toto+json"
STATEMENT_TYPES = ("https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1")
SLSA_V1 = "https://slsa.dev/provenance/v1"
SLSA_V02 = "https://slsa.dev/provenance/v0.2"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def load_json(raw: bytes, what: str) -> Any:
    """`raw` parsed as JSON (UTF-8 only), within the attestation's size and nesting bounds."""
    return documents.load_json(raw, what, limit=MAX_BODY, max_depth=MAX_DEPTH, utf8_only=True)


def b64decode(text: object, what: str) -> bytes:
    """Standard or URL-safe base64 (DSSE allows either), refused unless it is exactly that."""
    if not isinstance(text, str) or not text:
        raise EvidenceError(f"{what} is not a base64 string")
    if len(text) > MAX_BODY * 2:
        raise EvidenceError(f"{what} is over the size limit")
    standard = text.replace("-", "+").replace("_", "/")
    standard += "=" * (-len(standard) % 4)  # unpadded base64url is common in DSSE
    if not _B64.fullmatch(standard):
        raise EvidenceError(f"{what} is not base64")
    try:
        return base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        raise EvidenceError(f"{what} is not base64") from None


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise EvidenceError(f"{what} is not an object")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise EvidenceError(f"{what} is not a string")
    return value


def _dig(value: object, *path: str) -> object:
    """The field at `path`, or None where any step is missing or not an object."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


@dataclass(frozen=True, slots=True)
class Statement:
    """An in-toto Statement: what it is about and which predicate it carries."""

    statement_type: str
    subjects: tuple[str, ...]  # sha256 hex digests of the subjects, lower case
    predicate_type: str
    predicate: Mapping[str, Any]
    digest: str  # "sha256:<hex>" of the payload bytes, as signed

    @property
    def is_slsa_provenance(self) -> bool:
        return self.predicate_type in (SLSA_V1, SLSA_V02)


def parse_statement(payload: bytes) -> Statement:
    doc = _mapping(load_json(payload, "the attested statement"), "the attested statement")
    kind = doc.get("_type")
    if kind not in STATEMENT_TYPES:
        raise EvidenceError(f"not an in-toto statement (_type {str(kind)[:80]!r})")
    raw_subjects = doc.get("subject")
    if not isinstance(raw_subjects, list) or not raw_subjects:
        raise EvidenceError("the statement names no subject")
    if len(raw_subjects) > MAX_SUBJECTS:
        raise EvidenceError(f"the statement names over {MAX_SUBJECTS} subjects")
    subjects: list[str] = []
    for i, subject in enumerate(raw_subjects):
        sha = _dig(subject, "digest", "sha256")
        if sha is None:
            continue  # a subject known by another digest only cannot be our image
        sha = _text(sha, f"subject[{i}].digest.sha256").lower()
        if not _HEX64.fullmatch(sha):
            raise EvidenceError(f"subject[{i}].digest.sha256 is not a sha256 digest")
        subjects.append(sha)
    predicate = doc.get("predicate", {})
    return Statement(
        statement_type=kind,
        subjects=tuple(subjects),
        predicate_type=_text(doc.get("predicateType"), "predicateType"),
        predicate=_mapping(predicate if predicate is not None else {}, "predicate"),
        digest="sha256:" + hashlib.sha256(payload).hexdigest(),
    )


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who built it, from which source: the fields the policy is checked against."""

    builder: str
    repository: str  # as written: https://github.com/owner/repo or git+https://...@ref
    ref: str  # refs/heads/main, refs/tags/v1.2.3
    path: str = ""  # the workflow file
    commit: str = ""


def _optional_text(value: object, what: str) -> str:
    return "" if value is None else _text(value, what)


def _v1(predicate: Mapping[str, Any]) -> Provenance:
    workflow = _dig(predicate, "buildDefinition", "externalParameters", "workflow")
    commit = ""
    deps = _dig(predicate, "buildDefinition", "resolvedDependencies")
    if isinstance(deps, list):
        commit = next(
            (c for d in deps[:64] if isinstance(c := _dig(d, "digest", "gitCommit"), str)), ""
        )
    return Provenance(
        builder=_text(_dig(predicate, "runDetails", "builder", "id"), "runDetails.builder.id"),
        repository=_text(_dig(workflow, "repository"), "externalParameters.workflow.repository"),
        ref=_text(_dig(workflow, "ref"), "externalParameters.workflow.ref"),
        path=_optional_text(_dig(workflow, "path"), "externalParameters.workflow.path"),
        commit=commit,
    )


def _v02(predicate: Mapping[str, Any]) -> Provenance:
    uri = _text(_dig(predicate, "invocation", "configSource", "uri"), "configSource.uri")
    repository, _, ref = uri.partition("@")
    return Provenance(
        builder=_text(_dig(predicate, "builder", "id"), "builder.id"),
        repository=repository,
        ref=ref,
        path=_optional_text(
            _dig(predicate, "invocation", "configSource", "entryPoint"), "configSource.entryPoint"
        ),
        commit=_optional_text(
            _dig(predicate, "invocation", "configSource", "digest", "sha1"), "configSource.digest"
        ),
    )


def parse_provenance(statement: Statement) -> Provenance:
    """The builder and source of a SLSA provenance statement (v1 or v0.2)."""
    if statement.predicate_type == SLSA_V1:
        return _v1(statement.predicate)
    if statement.predicate_type == SLSA_V02:
        return _v02(statement.predicate)
    raise EvidenceError(f"predicate {statement.predicate_type[:80]!r} is not SLSA provenance")


def repository_name(uri: str) -> tuple[str, str]:
    """(host, owner/repo) of a source URI, lower case: `https://github.com/Acme/API`,
    `git+https://github.com/acme/api.git@refs/heads/main` and `acme/api` all give
    ("github.com" or "", "acme/api")."""
    text = uri.strip().lower()
    text = text.removeprefix("git+")
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("@", 1)[0]  # the ref a git+ URI ends with
    text = text.rstrip("/").removesuffix(".git")
    parts = [p for p in text.split("/") if p]
    if len(parts) >= 3:
        return parts[0], "/".join(parts[1:])
    return "", "/".join(parts)
