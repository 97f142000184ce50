"""Which versions get supply-chain evidence from GitHub, and the memory that spares re-reads.

Per repository: every deployed version and the versions of the newest `evidence_runs`
runs. For each: the newest completed run of that version (its artifacts, its branch's or
tag's code-scanning alerts), the release of its tag, the SBOM URL, and the attestations
of each image digest deployed as it. A completed run's artifacts and a found attestation
are read once; whatever may still change, or failed, is read again after RETRY seconds.
At most PER_POLL reads start in one poll, deployed versions first, so the first poll of
many repositories stays inside the hub's timeout and GitHub's secondary limit; the rest
follow in the next polls (their gates stay unknown meanwhile).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx

from cockpit.clock import Clock
from cockpit.connect import evidence_files as files
from cockpit.connect.http import Api
from cockpit.connect.http_safety import origin
from cockpit.errors import ConnectorError
from cockpit.model import Evidence, EvidenceKind
from cockpit.sanitize import clean
from connectors.github import evidence_fetch as fetch
from connectors.github import mapping
from connectors.github.options import GitHubOptions, fill

Json = Mapping[str, Any]
Key = tuple[str, ...]
Read = Callable[[fetch.Make], Awaitable[tuple[list[Evidence], bool]]]

_SHA = re.compile(r"[0-9a-f]{40}")  # a deployment of a bare commit has no branch or tag
RETRY = 300.0  # seconds before a read that failed, found nothing or may change is redone
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


@dataclass(frozen=True)
class _Kept:
    docs: tuple[Evidence, ...]
    at: datetime  # when it was read
    final: bool  # never read again


def targets(
    repo: str, service: str, runs: Sequence[Json], deployed: Sequence[Json], newest: int
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
    return out


class EvidenceReader:
    """Reads and remembers one connector's evidence (see the module docstring)."""

    def __init__(
        self, api: Api, client: httpx.AsyncClient, options: GitHubOptions, source: str, clock: Clock
    ) -> None:
        self.api = api
        self.client = client
        self.options = options
        self.source = source
        self.clock = clock
        self.wanted = [
            files.Wanted(kind, name, patterns)
            for kind, name, patterns in (
                (EvidenceKind.SBOM, options.sbom_artifact, files.SBOM_FILES),
                (EvidenceKind.TESTS, options.junit_artifact, files.JUNIT_FILES),
                (EvidenceKind.SCAN, options.sarif_artifact, files.SARIF_FILES),
            )
            if name
        ]
        self.wait: float | None = None  # how long a poll waits for its reads; None: all
        self.on_late: Callable[[], None] = lambda: None  # reads a poll left behind are done
        self._kept: dict[Key, _Kept] = {}
        self._running: dict[Key, asyncio.Task[None]] = {}
        self._late: set[Key] = set()
        self._plain: dict[str, Api] = {}  # origin -> a token-less Api for sbom_url

    async def read(self, targets: Sequence[Target]) -> tuple[Evidence, ...]:
        """Every remembered document of `targets`, after this poll's share of reads.

        A read still running after `wait` seconds goes on in the background (a big
        artifact must not make the whole poll time out, and then start over): the next
        poll reports it, and `on_late` asks for that poll when the last one is done.
        """
        started = self.clock.now()
        plan = [(key, target, read) for target in targets for key, read in self._reads(target)]
        due = [
            (key, target, read)
            for key, target, read in plan
            if key not in self._running
            and (
                (kept := self._kept.get(key)) is None
                or (not kept.final and (started - kept.at).total_seconds() >= RETRY)
            )
        ][: max(0, PER_POLL - len(self._running))]
        for key, target, read in due:
            task = asyncio.create_task(self._read(key, target, read, started))
            self._running[key] = task
            task.add_done_callback(partial(self._done, key))
        waiting = [self._running[key] for key, _, _ in plan if key in self._running]
        if waiting:
            _, pending = await asyncio.wait(waiting, timeout=self.wait)
            self._late |= {key for key, task in self._running.items() if task in pending}
        wanted = {key for key, _, _ in plan}
        for key in [k for k in self._kept if k not in wanted]:
            del self._kept[key]  # versions no longer listed: their documents go
        now = self.clock.now()
        out: list[Evidence] = []
        for key, _, _ in plan:
            kept = self._kept.get(key)
            if kept is None:
                continue
            if kept.final:  # unchanging: this poll confirms it is still the version's
                out += [dataclasses.replace(e, observed_at=now) for e in kept.docs]
            else:
                out += kept.docs
        return tuple(out)

    def _reads(self, t: Target) -> list[tuple[Key, Read]]:
        """What to read for one version, each under the key its documents are kept by."""
        o, api, limit = self.options, self.api, self.options.max_evidence_bytes
        reads: list[tuple[Key, Read]] = []
        if o.attestations:
            for digest in t.digests:
                read: Read = partial(fetch.attestations, api, t.repo, digest)
                reads.append((("attest", t.repo, t.version, digest), read))
        if t.run is not None and self.wanted:
            attempt = str(t.run.get("run_attempt") or 1)
            read = partial(fetch.artifacts, api, t.repo, t.run, self.wanted, limit)
            reads.append((("artifacts", t.repo, t.version, str(t.run["id"]), attempt), read))
        values = {"service": t.service, "version": t.version, "sha": t.sha, "repo": t.repo}
        if o.sbom_asset:
            tag = fill(o.tag_template, **values)
            read = partial(fetch.release_sbom, api, t.repo, tag, o.sbom_asset, limit)
            reads.append((("release", t.repo, t.version, tag), read))
        if o.sbom_url:
            quoted = {k: quote(v, safe="/" if k == "repo" else "") for k, v in values.items()}
            url = fill(o.sbom_url, **quoted)
            read = partial(fetch.url_sbom, self._token_less(url), url, limit)
            reads.append((("url", t.repo, t.version, url), read))
        if o.code_scanning and t.ref and not _SHA.fullmatch(t.ref):  # alerts are per ref
            ref = f"refs/tags/{t.ref}" if t.ref == t.version else f"refs/heads/{t.ref}"
            reads.append(
                (("scan", t.repo, t.version, ref), partial(fetch.code_scanning, api, t.repo, ref))
            )
        return reads

    def _done(self, key: Key, task: asyncio.Task[None]) -> None:
        self._running.pop(key, None)
        if key in self._late:
            self._late.discard(key)
            if not self._late and not task.cancelled():
                self.on_late()

    async def aclose(self) -> None:
        """Stop the reads still running in the background."""
        tasks = list(self._running.values())
        self._late.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _read(self, key: Key, t: Target, read: Read, started: datetime) -> None:
        def make(kind: EvidenceKind, media: str, body: bytes, **labels: Any) -> Evidence:
            run = t.run or {}
            base: dict[str, Any] = {
                "subject": t.sha,
                "run_id": str(run.get("id") or ""),
                "attempt": int(run.get("run_attempt") or 1),
            }
            return Evidence(
                kind, t.service, t.version, self.source, started, media, body, **{**base, **labels}
            )

        try:
            docs, final = await read(make)
        except Exception as exc:  # any failure, however odd the answer: a problem, not a pass
            text = str(exc) if isinstance(exc, ConnectorError | ValueError) else ""
            why = (
                clean(self.api.redact(text), limit=300) or f"unusable answer ({type(exc).__name__})"
            )
            kinds = _kinds(key[0], self.wanted)
            about = {"subject": key[3]} if key[0] == "attest" else {}  # the image digest
            docs = [make(k, "", b"", ref=_where(key), problem=why, **about) for k in kinds]
            final = False
        self._kept[key] = _Kept(tuple(docs), started, final)

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


def _kinds(read: str, wanted: Sequence[files.Wanted]) -> list[EvidenceKind]:
    """Which gates a failed read leaves without evidence."""
    if read == "attest":
        return [EvidenceKind.PROVENANCE]
    if read == "artifacts":
        return [w.kind for w in wanted]
    return [EvidenceKind.SCAN] if read == "scan" else [EvidenceKind.SBOM]


def _where(key: Key) -> str:
    return clean(" ".join(key[:1] + key[3:]), limit=200)
