"""The GitHub reads behind each kind of supply-chain evidence, one document per Evidence.

Each function returns the documents it found and whether they are final (a completed
run's artifacts, an attestation once found: never read again) or may change (alerts,
a release not published yet). A failure raises: the caller turns it into a problem.
Endpoints and fields: GitHub REST 2022-11-28 (attestations, artifacts, releases, code
scanning); docs/connectors/github.md lists them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cockpit.connect.evidence_files import sbom_media
from cockpit.connect.evidence_reads import Make
from cockpit.connect.http import Api
from cockpit.errors import ConnectorError, Unreachable
from cockpit.evidence_model import GITHUB_CODE_SCANNING, SIGSTORE_BUNDLE
from cockpit.model import Evidence, EvidenceKind
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.connect.archive import Member
    from cockpit.connect.evidence_files import Wanted

Json = Mapping[str, Any]


async def attestations(api: Api, repo: str, digest: str, make: Make) -> tuple[list[Evidence], bool]:
    """Each attestation bundle stored for `digest` in `repo`; a 404 means none (yet)."""
    path = f"/repos/{repo}/attestations/{quote(digest, safe=':')}"
    resp = await api.request("GET", path, params={"per_page": 100}, accept=(404,))
    if resp.status == 404:
        return [], False
    items = resp.body.get("attestations") if isinstance(resp.body, Mapping) else None
    if not isinstance(items, list):
        raise Unreachable(f"{api.name}: {path} did not return attestations")
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        bundle, url = item.get("bundle"), str(item.get("bundle_url") or "")
        ref = url or f"{repo} attestation {index + 1} of {digest}"
        if isinstance(bundle, Mapping):
            body = json.dumps(bundle, separators=(",", ":")).encode()
            out.append(
                make(EvidenceKind.PROVENANCE, SIGSTORE_BUNDLE, body, subject=digest, ref=ref)
            )
        else:
            out.append(
                make(
                    EvidenceKind.PROVENANCE,
                    SIGSTORE_BUNDLE,
                    b"",
                    subject=digest,
                    ref=ref,
                    problem="the attestation's bundle is not inline (only bundle_url); not read",
                )
            )
    return out, bool(out)


async def artifacts(
    api: Api, repo: str, run: Json, wanted: Sequence[Wanted], limit: int, make: Make
) -> tuple[list[Evidence], bool]:
    """The wanted files of the run's artifacts; an artifact the run lacks gives nothing,
    one that cannot be used (expired, too large, unsafe zip) gives a problem."""
    run_id = int(run["id"])
    labels: dict[str, Any] = {
        "subject": str(run.get("head_sha") or ""),
        "run_id": f"{repo}#{run_id}",  # as the cockpit names the run (mapping.run_key)
        "attempt": int(run.get("run_attempt") or 1),
    }
    listed = await api.collect(
        f"/repos/{repo}/actions/runs/{run_id}/artifacts",
        key="artifacts",
        params={"per_page": 100},
        limit=3,
    )
    out: list[Evidence] = []
    final = True
    for want in wanted:
        found = [a for a in listed if isinstance(a, Mapping) and a.get("name") == want.name]
        if not found:
            continue
        art = max(found, key=lambda a: (str(a.get("created_at") or ""), int(a.get("id") or 0)))
        ref = f"artifact {int(art['id'])} ({clean(want.name, limit=80)})"
        try:
            files = await _artifact_files(api, repo, art, want, limit)
        except (ConnectorError, ValueError) as exc:  # ArchiveProblem is a ValueError
            final = False
            why = clean(str(exc), limit=240)
            out.append(make(want.kind, "", b"", ref=ref, problem=f"{ref}: {why}", **labels))
            continue
        for member in files:
            body = member.content
            name = clean(member.name, limit=160)
            out.append(make(want.kind, want.media(body), body, ref=f"{ref}/{name}", **labels))
    return out, final


async def _artifact_files(api: Api, repo: str, art: Json, want: Wanted, limit: int) -> list[Member]:
    from cockpit.connect import archive  # zipfile and its codecs: only once evidence is read

    if art.get("expired"):
        raise ValueError("expired (GitHub keeps artifacts for a retention period)")
    size = int(art.get("size_in_bytes") or 0)
    if size > limit:
        raise ValueError(f"{size} bytes, more than max_evidence_bytes ({limit})")
    data = await api.download(f"/repos/{repo}/actions/artifacts/{int(art['id'])}/zip", limit=limit)
    files = archive.members(data.content, want.picks, max_unzipped=limit)
    if not files:
        raise ValueError(f"no file matching {', '.join(want.files)}")
    return files


async def release_sbom(
    api: Api, repo: str, tag: str, asset_name: str, limit: int, make: Make
) -> tuple[list[Evidence], bool]:
    """The release's SBOM asset; no release for the tag (yet) gives nothing."""
    path = f"/repos/{repo}/releases/tags/{quote(tag, safe='')}"
    resp = await api.request("GET", path, accept=(404,))
    if resp.status == 404:
        return [], False
    assets = resp.body.get("assets") if isinstance(resp.body, Mapping) else None
    if not isinstance(assets, list):
        raise Unreachable(f"{api.name}: {path} did not return a release with assets")
    found = [a for a in assets if isinstance(a, Mapping) and a.get("name") == asset_name]
    if not found:
        raise ValueError(f"release {tag} has no asset {asset_name}")
    asset = found[0]
    size = int(asset.get("size") or 0)
    if size > limit:
        raise ValueError(
            f"asset {asset_name}: {size} bytes, more than max_evidence_bytes ({limit})"
        )
    data = await api.download(
        f"/repos/{repo}/releases/assets/{int(asset['id'])}",
        headers={"Accept": "application/octet-stream"},
        limit=limit,
    )
    ref = f"release {tag} asset {int(asset['id'])} ({asset_name})"
    return [make(EvidenceKind.SBOM, sbom_media(data.content), data.content, ref=ref)], True


async def url_sbom(api: Api, url: str, limit: int, make: Make) -> tuple[list[Evidence], bool]:
    """The SBOM at a configured URL (no GitHub token sent); a 404 means none (yet)."""
    data = await api.download(
        url, headers={"Accept": "application/json"}, limit=limit, accept=(404,)
    )
    if data.status == 404:
        return [], False
    return [make(EvidenceKind.SBOM, sbom_media(data.content), data.content, ref=url)], True


async def code_scanning(api: Api, repo: str, ref: str, make: Make) -> tuple[list[Evidence], bool]:
    """The open alerts of `ref`'s latest analysis, as GitHub's bare JSON array."""
    alerts = await api.collect(
        f"/repos/{repo}/code-scanning/alerts",
        params={"state": "open", "ref": ref, "per_page": 100},
        limit=10,
    )
    body = json.dumps(alerts, separators=(",", ":")).encode()
    return [
        make(EvidenceKind.SCAN, GITHUB_CODE_SCANNING, body, ref=f"{repo} code scanning {ref}")
    ], False
