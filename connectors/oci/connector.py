"""The OCI registry connector: provenance attestations of the fleet's image digests.

It sees no deployments of its own: before each poll the hub names the digests other
sources know (`Connector.known_artifacts`: deployed, canary and newest built versions).
For each, the attestations attached to it in the service's repository are read through
the referrers API (connectors/oci/referrers.py). A found attestation is kept and never
read again while the digest is known; nothing found, or a failure, is read again after
5 minutes (cockpit.connect.evidence_reads). Each poll also asks `GET /v2/` so a registry
that is down or refuses the credentials marks the source failing (its gates unknown).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from functools import partial

import httpx

from cockpit.clock import Clock
from cockpit.connect.evidence_reads import KeptReads, Make, Planned
from cockpit.connector import Capability, Connector
from cockpit.errors import ConnectorError
from cockpit.model import Evidence, EvidenceKind
from connectors.oci.auth import RegistryApi, RegistryAuth, unauthorized
from connectors.oci.options import OciOptions
from connectors.oci.referrers import DIGEST, Referrers

PER_POLL = 16  # reads started per poll
EVIDENCE_WAIT = 5.0  # seconds a live poll waits for its reads; the rest follow
LOGIN = ""  # the scope of the /v2/ check: none


class OciConnector(Connector):
    """Attestations (Sigstore bundles, DSSE envelopes) from an OCI 1.1 registry."""

    CAPABILITIES = frozenset({Capability.EVIDENCE})
    Options = OciOptions
    DESCRIPTION = "OCI registry (referrers API): provenance attestations of image digests"

    def __init__(
        self,
        name: str,
        options: OciOptions,
        *,
        client: httpx.AsyncClient | None,
        clock: Clock,
    ) -> None:
        super().__init__(name, options, client=client, clock=clock)
        if client is None:
            raise ConnectorError(f"{name}: the OCI connector needs an HTTP client")
        self.auth = RegistryAuth(
            client,
            options.url,
            name,
            clock.now,
            token=options.token.reveal() if options.token is not None else "",
            username=options.username or "",
            password=options.password.reveal() if options.password is not None else "",
        )
        self.api = self.auth.api()
        self._apis: dict[str, RegistryApi] = {}  # repository -> its Api (its own token)
        self.kept = KeptReads(name, clock, self.api.redact, per_poll=PER_POLL)
        self.kept.on_late = self.changed
        self._last: tuple[Evidence, ...] = ()

    async def evidence(self) -> Sequence[Evidence]:
        await self._check()
        plan = []
        for service, version, digest in self.known_artifacts:
            repo = self.options.repository_of(service)
            if repo is None or not DIGEST.fullmatch(digest):
                continue
            read = partial(self._read, repo, digest)
            key = ("referrers", service, version, repo, digest)
            where = f"{repo}@{digest}"
            plan.append(
                Planned(
                    key,
                    read,
                    service,
                    version,
                    (EvidenceKind.PROVENANCE,),
                    where,
                    {"subject": digest},
                )
            )
        self.kept.wait = EVIDENCE_WAIT if self.live else None
        docs = await self.kept.read(plan)
        self._last = _stable(self._last, docs)
        return self._last

    async def aclose(self) -> None:
        await self.kept.aclose()

    async def _check(self) -> None:
        """`GET /v2/`: the registry answers and takes the credentials (a 401 teaches the
        challenge; a token service that refuses them raises Unauthorized)."""
        for attempt in range(2):
            async with self.api.stream("/v2/", accept=(401,)) as resp:
                status = resp.status_code
                challenge = resp.headers.get("www-authenticate", "")
            if status != 401:
                return
            self.auth.learn(status, challenge)
            if attempt or not self.auth.renewable():
                raise unauthorized(self.name, "GET /v2/")
            await self.auth.authorize(self.api, LOGIN, renew=True)

    async def _learn(self, api: RegistryApi, path: str) -> None:
        """Read the challenge of a 401 (the Api's answers do not keep its headers)."""
        async with api.stream(path, accept=(401, 404)) as resp:
            self.auth.learn(resp.status_code, resp.headers.get("www-authenticate", ""))

    def _repo_api(self, repo: str) -> RegistryApi:
        if repo not in self._apis:
            self._apis[repo] = self.auth.api(concurrency=4)
        return self._apis[repo]

    async def _read(self, repo: str, digest: str, make: Make) -> tuple[list[Evidence], bool]:
        api = self._repo_api(repo)
        scope = f"repository:{repo}:pull"
        limit = self.options.max_evidence_bytes

        async def send(path: str, accept: str, raw: bool) -> tuple[int, bytes, Mapping[str, str]]:
            for attempt in range(2):
                await self.auth.authorize(api, scope, renew=attempt > 0)
                headers = {"Accept": accept} if accept else None
                if raw:
                    got = await api.download(path, limit=limit, headers=headers, accept=(401, 404))
                    status, body, links = got.status, got.content, {}
                else:
                    resp = await api.request(
                        "GET",
                        path,
                        headers=headers,
                        conditional=False,
                        expect_json=False,
                        accept=(401, 404),
                    )
                    status, body, links = resp.status, str(resp.body or "").encode(), resp.links
                if status != 401:
                    return status, body, links
                if self.auth.challenge is None:
                    await self._learn(api, path)  # /v2/ was open, this repository is not
                if not self.auth.renewable():
                    break
            raise unauthorized(self.name, f"GET {api.redact(path)}")

        return await Referrers(api, repo, limit, send).attestations(digest, make)


def _stable(previous: tuple[Evidence, ...], docs: Sequence[Evidence]) -> tuple[Evidence, ...]:
    """Last poll's documents where only observed_at moved, so the hub sees no change."""
    before = {_key(e): e for e in previous}
    out = []
    for doc in docs:
        old = before.get(_key(doc))
        out.append(
            old
            if old is not None and dataclasses.replace(old, observed_at=doc.observed_at) == doc
            else doc
        )
    if len(out) == len(previous) and all(a is b for a, b in zip(out, previous, strict=True)):
        return previous
    return tuple(out)


def _key(e: Evidence) -> tuple[str, ...]:
    return (e.service, e.version, e.ref, e.subject, e.problem)
