"""Which versions get supply-chain evidence from GitHub, and the memory that spares re-reads.

Per repository: every deployed version and the versions of the newest `evidence_runs`
runs. For each: the newest completed run of that version (its artifacts, its branch's or
tag's code-scanning alerts), the release of its tag, the SBOM URL, and the attestations
of each image digest deployed as it; and the JUnit reports of the newest
`test_history_runs` completed runs (flaky tests). A completed run's artifacts and a
found attestation are read once; whatever may still change, or failed, is read again
after 5 minutes (`cockpit.connect.evidence_reads` keeps them). At most PER_POLL reads
start in one poll, deployed versions first, and a live poll waits EVIDENCE_WAIT for
them, so the first poll of many repositories stays inside the hub's timeout and GitHub's
secondary limit; the rest follow (their gates stay unknown meanwhile).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx

from cockpit.clock import Clock
from cockpit.connect import evidence_files as files
from cockpit.connect.evidence_reads import KeptReads, Planned, Read
from cockpit.connect.http import Api
from cockpit.connect.http_safety import origin
from cockpit.model import Evidence, EvidenceKind
from connectors.github import evidence_fetch as fetch
from connectors.github import mapping
from connectors.github.options import GitHubOptions, fill

Json = Mapping[str, Any]

_SHA = re.compile(r"[0-9a-f]{40}")  # a deployment of a bare commit has no branch or tag
PER_POLL = 16  # reads started per poll


@dataclass(frozen=True)
class Target:
    """One version of one repository that evidence is read for."""

    repo: str
    service: str
    version: str
    sha: str
    ref: str  # the branch or tag it was built from
    run: Json | None  # its newest completed run, when the runs list has one
    digests: tuple[str, ...]  # image digests deployed as this version
    history: bool = False  # an earlier run, read for its test reports only (flaky tests)


def targets(
    repo: str,
    service: str,
    runs: Sequence[Json],
    deployed: Sequence[Json],
    newest: int,
    history: int = 0,
) -> list[Target]:
    """Deployed versions first (promotes and rollbacks judge them), then the newest runs'."""
    found: dict[str, tuple[str, str, list[str]]] = {}  # version -> sha, ref, digests
    for dep in deployed:
        sha = str(dep.get("sha") or "")
        version = mapping.version(sha, dep.get("ref"), dep.get("payload"))
        _, _, digests = found.setdefault(version, (sha, str(dep.get("ref") or ""), []))
        digest = mapping.digest(dep.get("payload"))
        if digest and digest not in digests:
            digests.append(digest)
    for raw in runs[:newest]:
        sha = str(raw.get("head_sha") or "")
        found.setdefault(
            mapping.version(sha, raw.get("head_branch")),
            (sha, str(raw.get("head_branch") or ""), []),
        )
    out = []
    for version, (sha, ref, digests) in found.items():
        built = [
            r
            for r in runs
            if r.get("status") == "completed"
            and (
                r.get("head_sha") == sha
                or mapping.version(str(r.get("head_sha") or ""), r.get("head_branch")) == version
            )
        ]
        run = built[0] if built else None
        if run is not None:
            ref = str(run.get("head_branch") or ref)
        out.append(Target(repo, service, version, sha, ref, run, tuple(digests)))
    # Earlier runs' test reports: a test that failed in one run and passed in another of
    # the same commit, or flips across runs, is flaky. Read last, when the budget allows.
    chosen = {int(t.run["id"]) for t in out if t.run is not None}
    for raw in runs[:history]:
        if raw.get("status") == "completed" and int(raw["id"]) not in chosen:
            sha = str(raw.get("head_sha") or "")
            branch = str(raw.get("head_branch") or "")
            version = mapping.version(sha, raw.get("head_branch"))
            out.append(Target(repo, service, version, sha, branch, raw, (), history=True))
    return out


class EvidenceReader:
    """Plans one connector's evidence reads per version (see the module docstring)."""

    def __init__(
        self, api: Api, client: httpx.AsyncClient, options: GitHubOptions, source: str, clock: Clock
    ) -> None:
        self.api = api
        self.client = client
        self.options = options
        self.clock = clock
        self.source = source
        self.wanted = [
            files.Wanted(kind, name, patterns)
            for kind, name, patterns in (
                (EvidenceKind.SBOM, options.sbom_artifact, files.SBOM_FILES),
                (EvidenceKind.TESTS, options.junit_artifact, files.JUNIT_FILES),
                (EvidenceKind.SCAN, options.sarif_artifact, files.SARIF_FILES),
            )
            if name
        ]
        self.kept = KeptReads(source, clock, api.redact, per_poll=PER_POLL)
        self._plain: dict[str, Api] = {}  # origin -> a token-less Api for sbom_url

    async def read(self, targets: Sequence[Target]) -> tuple[Evidence, ...]:
        """Every kept document of `targets`, after this poll's share of reads."""
        return await self.kept.read([p for t in targets for p in self._plan(t)])

    async def aclose(self) -> None:
        await self.kept.aclose()

    def _plan(self, t: Target) -> list[Planned]:
        """What to read for one version, each under the key its documents are kept by."""
        o, api, limit = self.options, self.api, self.options.max_evidence_bytes
        run = t.run or {}
        labels = {
            "subject": t.sha,
            "run_id": mapping.run_key(t.repo, run["id"]) if run else "",  # the run's id
            "attempt": int(run.get("run_attempt") or 1),
        }

        def planned(key: tuple[str, ...], read: Read, *kinds: EvidenceKind, **more: Any) -> Planned:
            where = " ".join(key[:1] + key[3:])
            return Planned(key, read, t.service, t.version, kinds, where, {**labels, **more})

        plan: list[Planned] = []
        if t.history:
            tests = [w for w in self.wanted if w.kind is EvidenceKind.TESTS]
            if t.run is not None and tests:
                attempt = str(labels["attempt"])
                read: Read = partial(fetch.artifacts, api, t.repo, t.run, tests, limit)
                key: tuple[str, ...] = ("artifacts", t.repo, t.version, str(t.run["id"]), attempt)
                plan.append(planned(key, read, EvidenceKind.TESTS))
            return plan
        if o.attestations:
            for digest in t.digests:
                read = partial(fetch.attestations, api, t.repo, digest)
                key = ("attest", t.repo, t.version, digest)
                plan.append(planned(key, read, EvidenceKind.PROVENANCE, subject=digest))
        if t.run is not None and self.wanted:
            attempt = str(labels["attempt"])
            read = partial(fetch.artifacts, api, t.repo, t.run, self.wanted, limit)
            key = ("artifacts", t.repo, t.version, str(t.run["id"]), attempt)
            plan.append(planned(key, read, *(w.kind for w in self.wanted)))
        values = {"service": t.service, "version": t.version, "sha": t.sha, "repo": t.repo}
        if o.sbom_asset:
            tag = fill(o.tag_template, **values)
            read = partial(fetch.release_sbom, api, t.repo, tag, o.sbom_asset, limit)
            plan.append(planned(("release", t.repo, t.version, tag), read, EvidenceKind.SBOM))
        if o.sbom_url:
            quoted = {k: quote(v, safe="/" if k == "repo" else "") for k, v in values.items()}
            url = fill(o.sbom_url, **quoted)
            read = partial(fetch.url_sbom, self._token_less(url), url, limit)
            plan.append(planned(("url", t.repo, t.version, url), read, EvidenceKind.SBOM))
        if o.code_scanning and t.ref and not _SHA.fullmatch(t.ref):  # alerts are per ref
            ref = f"refs/tags/{t.ref}" if t.ref == t.version else f"refs/heads/{t.ref}"
            read = partial(fetch.code_scanning, api, t.repo, ref)
            plan.append(planned(("scan", t.repo, t.version, ref), read, EvidenceKind.SCAN))
        return plan

    def _token_less(self, url: str) -> Api:
        """An Api for `url`'s origin with no auth headers: the SBOM host is not GitHub."""
        there = origin(httpx.URL(url))
        if there not in self._plain:
            self._plain[there] = Api(
                self.client,
                there,
                name=self.source,
                concurrency=4,
                clock=lambda: self.clock.now().timestamp(),
            )
        return self._plain[there]
