"""The attestations of one image digest, read through the OCI referrers API.

OCI distribution spec 1.1: `GET /v2/<name>/referrers/<digest>` answers an image index
whose `manifests[]` describe each manifest naming the digest as its `subject`, with its
`artifactType`. A registry without the API answers 404; the referrers tag schema
(`/v2/<name>/manifests/sha256-<hex>`, an index pushed by the attaching client) stands in,
and 404 there too means no referrers. For each attestation referrer (a Sigstore bundle,
a DSSE envelope, an in-toto attestation) its manifest is read, checked against its
digest, and its layer blob downloaded (a redirect to storage is followed without the
registry's Authorization), checked against its descriptor's digest and size, and
reported as it came. The layout is cosign's and actions/attest's (cosign specs/BUNDLE_SPEC.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cockpit.connect.evidence_reads import Make
from cockpit.connect.http import Api
from cockpit.connect.http_safety import size_words
from cockpit.errors import Unreachable
from cockpit.evidence_model import DSSE_ENVELOPE, SIGSTORE_BUNDLE, Evidence, EvidenceKind
from cockpit.sanitize import clean

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
BUNDLE_PREFIX = "application/vnd.dev.sigstore.bundle"  # .v0.3+json, +json;version=0.2
INTOTO = "application/vnd.in-toto+json"
ATTESTATION_TYPES = (BUNDLE_PREFIX, DSSE_ENVELOPE, INTOTO)
MAX_REFERRERS = 16  # attestation referrers read per digest
MAX_PAGES = 5  # pages of a referrers index
MAX_LAYERS = 4  # attestation layers read per referrer manifest
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")

Json = Mapping[str, Any]
Send = Callable[[str, str, bool], Awaitable[tuple[int, bytes, Mapping[str, str]]]]


def short(digest: str) -> str:
    return digest[:19] + "…" if len(digest) > 20 else digest


def is_attestation(media: str) -> bool:
    media = media.split(";", 1)[0].strip().lower()
    return media.startswith(BUNDLE_PREFIX) or media in (DSSE_ENVELOPE, INTOTO)


def evidence_media(media: str, body: bytes) -> str:
    """The evidence media type of an attestation blob: a bundle or a DSSE envelope by its
    declared type; an in-toto layer by what it holds (an unsigned statement keeps its type,
    which the provenance gate cannot verify: unknown)."""
    media = media.split(";", 1)[0].strip().lower()
    if media.startswith(BUNDLE_PREFIX):
        return SIGSTORE_BUNDLE
    if media == DSSE_ENVELOPE:
        return DSSE_ENVELOPE
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return INTOTO
    if isinstance(doc, dict):
        if str(doc.get("mediaType", "")).startswith(BUNDLE_PREFIX):
            return SIGSTORE_BUNDLE
        if "payloadType" in doc and "signatures" in doc:
            return DSSE_ENVELOPE
    return INTOTO


def _json(body: bytes, what: str) -> Json:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Unreachable(f"{what} is not JSON ({len(body)} bytes)") from None
    if not isinstance(doc, dict):
        raise Unreachable(f"{what} is not a JSON object")
    return doc


def descriptors(index: Json, what: str) -> list[Json]:
    items = index.get("manifests")
    if not isinstance(items, list):
        raise Unreachable(f"{what} is not an image index (no manifests list)")
    return [d for d in items if isinstance(d, Mapping)]


class Referrers:
    """Reads one repository's attestations (see the module docstring)."""

    def __init__(self, api: Api, name: str, limit: int, send: Send) -> None:
        self.api = api
        self.name = name
        self.limit = limit
        self.send = send  # (path, accept, raw) -> status, body, links; 401 handled inside

    async def index(self, digest: str) -> list[Json]:
        """The referrers' descriptors: the API's (every page), else the tag schema's."""
        path: str | None = f"/v2/{self.name}/referrers/{digest}"
        out: list[Json] = []
        for page in range(MAX_PAGES):
            if path is None:
                break
            status, body, links = await self.send(path, INDEX, False)
            if status == 404 and page == 0:
                return await self._tag_schema(digest)
            if status == 404:
                raise Unreachable(f"{self.name}: a referrers page vanished (404)")
            out += descriptors(_json(body, f"the referrers of {short(digest)}"), "referrers")
            path = links.get("next")
        return out

    async def _tag_schema(self, digest: str) -> list[Json]:
        tag = digest.replace(":", "-", 1)
        status, body, _ = await self.send(f"/v2/{self.name}/manifests/{tag}", INDEX, True)
        if status == 404:
            return []
        try:
            return descriptors(_json(body, f"tag {tag}"), f"tag {tag}")
        except Unreachable:
            return []  # the spec: a tag that is no valid index means no referrers

    async def attestations(self, digest: str, make: Make) -> tuple[list[Evidence], bool]:
        """Each attestation of `digest`, or a problem per referrer that cannot be used."""
        if not DIGEST.fullmatch(digest):
            raise ValueError(f"{clean(digest, limit=80)!r} is not a sha256 digest")
        listed = {
            str(d.get("digest")): d
            for d in await self.index(digest)
            if is_attestation(str(d.get("artifactType") or ""))
        }
        found = list(listed.values())  # one read per referrer, however often it is listed
        out: list[Evidence] = []
        for desc in found[:MAX_REFERRERS]:
            ref = str(desc.get("digest") or "")
            try:
                out += await self._referrer(desc, digest, make)
            except (Unreachable, ValueError) as exc:
                why = clean(self.api.redact(str(exc)), limit=240)
                where = f"{self.name}@{clean(ref, limit=80)}"
                out.append(_problem(make, digest, where, why))
        final = bool(out) and not any(e.problem for e in out)
        return out, final

    async def _referrer(self, desc: Json, subject: str, make: Make) -> list[Evidence]:
        ref = str(desc.get("digest") or "")
        if not DIGEST.fullmatch(ref):
            raise ValueError(f"referrer digest {clean(ref, limit=80)!r} is not a sha256 digest")
        declared = str(desc.get("mediaType") or MANIFEST)
        manifest_body = await self._blob_or_manifest("manifests", ref, declared, desc.get("size"))
        manifest = _json(manifest_body, f"manifest {short(ref)}")
        artifact = str(manifest.get("artifactType") or desc.get("artifactType") or "")
        layers = manifest.get("layers")
        if not isinstance(layers, list):
            raise ValueError(f"manifest {short(ref)} has no layers")
        chosen = [
            lay
            for lay in layers
            if isinstance(lay, Mapping)
            and (is_attestation(str(lay.get("mediaType") or "")) or is_attestation(artifact))
        ]
        if not chosen:
            raise ValueError(f"manifest {short(ref)} has no attestation layer")
        out = []
        for layer in chosen[:MAX_LAYERS]:
            blob = str(layer.get("digest") or "")
            if not DIGEST.fullmatch(blob):
                raise ValueError(f"layer digest {clean(blob, limit=80)!r} is not a sha256 digest")
            body = await self._blob_or_manifest("blobs", blob, "", layer.get("size"))
            media = evidence_media(str(layer.get("mediaType") or artifact), body)
            where = f"{self.name}@{ref}"
            out.append(make(EvidenceKind.PROVENANCE, media, body, subject=subject, ref=where))
        return out

    async def _blob_or_manifest(self, kind: str, digest: str, accept: str, size: object) -> bytes:
        """A manifest or blob by digest, within the bound, whose bytes hash to the digest."""
        if isinstance(size, int) and size > self.limit:
            raise ValueError(
                f"{kind[:-1]} {short(digest)}: {size} bytes, more than max_evidence_bytes "
                f"({size_words(self.limit)})"
            )
        status, body, _ = await self.send(f"/v2/{self.name}/{kind}/{digest}", accept, True)
        if status == 404:
            raise ValueError(f"{kind[:-1]} {short(digest)} is listed but not found (404)")
        got = "sha256:" + hashlib.sha256(body).hexdigest()
        if got != digest:
            raise ValueError(
                f"{kind[:-1]} {short(digest)} does not match its digest (got {short(got)})"
            )
        if isinstance(size, int) and size != len(body):
            raise ValueError(f"{kind[:-1]} {short(digest)}: {len(body)} bytes, not {size}")
        return body


def _problem(make: Make, subject: str, where: str, why: str) -> Evidence:
    return make(EvidenceKind.PROVENANCE, "", b"", subject=subject, ref=where, problem=why)
