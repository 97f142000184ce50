"""OCI registry connector: the contract, the token exchange, referrers -> manifest -> blob,
the referrers tag schema, and every way a read fails (a problem, never a pass)."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.connect.http_safety import CappedTransport
from cockpit.errors import ConfigError, ConnectorError, Unauthorized
from cockpit.evidence_model import DSSE_ENVELOPE, SIGSTORE_BUNDLE, Evidence, EvidenceKind
from cockpit.testing import ConnectorContract
from connectors.oci import OciConnector, OciOptions
from tests.fakes import T0
from tests.fixtures.oci.registry import (
    DSSE,
    MINTED,
    PASSWORD,
    REALM,
    REGISTRY,
    STORAGE,
    USER,
    FakeRegistry,
    sha256,
)

SUBJECT = sha256(b"the api image")
BUNDLE = json.dumps(
    {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": {}}
).encode()
ENVELOPE = json.dumps(
    {"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": []}
).encode()
OPTIONS: dict[str, Any] = {"url": REGISTRY, "repository": "acme/{service}"}
ENV = {"REGISTRY_PASSWORD": PASSWORD}
KNOWN = (("api", "1.4.2", SUBJECT),)


class TestOciContract(ConnectorContract):
    connector_class = OciConnector
    options = {**OPTIONS, "username": USER, "password": "env:REGISTRY_PASSWORD"}
    env = ENV
    now = T0

    def transport(self) -> Any:
        return FakeRegistry(password=PASSWORD).transport()


def connector(fake: FakeRegistry, *, limit: int = 1 << 20, **extra: Any) -> OciConnector:
    options = opt.parse(OciOptions, {**OPTIONS, **extra}, env=ENV)
    for secret in opt.secrets_of(options):
        secret.resolve(ENV)
    client = httpx.AsyncClient(transport=CappedTransport(fake.transport(), limit))
    c = OciConnector("registry", options, client=client, clock=FixedClock(T0))
    c.known_artifacts = KNOWN
    c.live = False  # a one-shot read: wait for every read
    return c


async def read(fake: FakeRegistry, **extra: Any) -> tuple[Evidence, ...]:
    c = connector(fake, **extra)
    try:
        return tuple(await c.evidence())
    finally:
        await c.aclose()
        assert c.client is not None
        await c.client.aclose()


# Options ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"url": "ghcr.io"}, "http:// or https://"),
        ({"url": "https://ghcr.io/v2"}, "without /v2"),
        ({"repository": "Acme/{service}"}, "lowercase repository name"),
        ({"repository": "acme/{svc}"}, "lowercase repository name"),
        ({"token": "env:T", "username": "u", "password": "env:P"}, "choose one"),
        ({"username": "u"}, "go together"),
        ({"max_evidence_bytes": 10}, "max_evidence_bytes"),
    ],
)
def test_options_refuse_what_cannot_work(extra: dict[str, Any], why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        opt.parse(OciOptions, {**OPTIONS, **extra}, env={"T": "x", "P": "y"})


def test_a_service_outside_services_or_with_an_unusable_name_has_no_repository() -> None:
    options = opt.parse(OciOptions, {**OPTIONS, "services": ["api", "Web"]})
    assert options.repository_of("api") == "acme/api"
    assert options.repository_of("shop") is None
    assert options.repository_of("Web") is None  # not a lowercase repository name


# Reading ------------------------------------------------------------------------------
async def test_referrers_index_manifest_and_blob_become_provenance_evidence() -> None:
    fake = FakeRegistry(password=PASSWORD)
    ref = fake.attach("acme/api", SUBJECT, BUNDLE)
    fake.attach(
        "acme/api", SUBJECT, b'{"spdxVersion": "SPDX-2.3"}', artifact_type="application/spdx+json"
    )
    docs = await read(fake, username=USER, password="env:REGISTRY_PASSWORD")
    assert len(docs) == 1, docs  # the SBOM referrer is no attestation
    doc = docs[0]
    assert (doc.kind, doc.media_type, doc.body) == (
        EvidenceKind.PROVENANCE,
        SIGSTORE_BUNDLE,
        BUNDLE,
    )
    assert (doc.service, doc.version, doc.source) == ("api", "1.4.2", "registry")
    assert doc.subject == SUBJECT and doc.ref == f"acme/api@{ref}" and not doc.problem
    paths = [r.url.path for r in fake.seen if str(r.url).startswith(REGISTRY)]
    assert f"/v2/acme/api/referrers/{SUBJECT}" in paths
    assert f"/v2/acme/api/manifests/{ref}" in paths


async def test_the_token_exchange_sends_credentials_to_the_realm_only_and_the_token_to_the_registry() -> (
    None
):
    fake = FakeRegistry(password=PASSWORD)
    fake.attach("acme/api", SUBJECT, BUNDLE)
    docs = await read(fake, username=USER, password="env:REGISTRY_PASSWORD")
    assert [d.problem for d in docs] == [""]
    realm = [r for r in fake.seen if str(r.url).startswith(REALM)]
    scopes = {dict(r.url.params).get("scope") for r in realm}
    assert scopes == {None, "repository:acme/api:pull"}  # the login check, then the pull
    assert all(r.headers["authorization"].startswith("Basic ") for r in realm)
    registry = [r for r in fake.seen if str(r.url).startswith(REGISTRY)]
    assert all("Basic" not in r.headers.get("authorization", "") for r in registry)
    storage = [r for r in fake.seen if str(r.url).startswith(STORAGE)]
    assert storage and all("authorization" not in r.headers for r in storage)
    assert fake.tokens_minted == 2  # kept for its lifetime: not one per request


async def test_anonymous_pull_tokens_are_asked_for_without_credentials() -> None:
    fake = FakeRegistry()
    fake.attach("acme/api", SUBJECT, BUNDLE)
    docs = await read(fake)
    assert [d.media_type for d in docs] == [SIGSTORE_BUNDLE]
    realm = [r for r in fake.seen if str(r.url).startswith(REALM)]
    assert realm and all("authorization" not in r.headers for r in realm)


async def test_refused_credentials_fail_the_poll_and_never_show_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeRegistry(password=PASSWORD)
    c = connector(fake, username=USER, password="env:REGISTRY_PASSWORD")
    c.auth.basic = "d3Jvbmc6d3Jvbmc="  # wrong:wrong
    with caplog.at_level(logging.DEBUG), pytest.raises(Unauthorized) as err:
        await c.evidence()
    assert PASSWORD not in str(err.value) and "401" in str(err.value)
    assert PASSWORD not in caplog.text
    await c.client.aclose()  # type: ignore[union-attr]


async def test_a_token_echoed_in_an_error_body_is_redacted_from_the_problem() -> None:
    fake = FakeRegistry(password=PASSWORD)
    fake.attach("acme/api", SUBJECT, BUNDLE)
    fake.faults[r"/manifests/sha256:"] = lambda r: httpx.Response(
        500, json={"errors": [{"code": "UNKNOWN", "message": f"bad {r.headers['authorization']}"}]}
    )
    docs = await read(fake, username=USER, password="env:REGISTRY_PASSWORD")
    assert len(docs) == 1 and docs[0].problem and "500" in docs[0].problem
    for doc in docs:
        text = repr(doc)
        assert MINTED not in text and PASSWORD not in text, text


async def test_a_static_token_is_sent_as_bearer_and_never_exchanged() -> None:
    fake = FakeRegistry(auth="none")
    fake.attach("acme/api", SUBJECT, BUNDLE)
    docs = await read(fake, token="env:REGISTRY_PASSWORD")
    assert [d.problem for d in docs] == [""]
    registry = [r for r in fake.seen if str(r.url).startswith(REGISTRY)]
    assert {r.headers["authorization"] for r in registry} == {f"Bearer {PASSWORD}"}
    assert not [r for r in fake.seen if str(r.url).startswith(REALM)]


async def test_without_the_referrers_api_the_tag_schema_index_is_read() -> None:
    fake = FakeRegistry(referrers_api=False)
    ref = fake.attach("acme/api", SUBJECT, ENVELOPE, artifact_type=DSSE)
    docs = await read(fake)
    assert [(d.media_type, d.ref, d.body) for d in docs] == [
        (DSSE_ENVELOPE, f"acme/api@{ref}", ENVELOPE)
    ]
    tag = SUBJECT.replace(":", "-")
    assert f"/v2/acme/api/manifests/{tag}" in [r.url.path for r in fake.seen]


async def test_an_in_toto_layer_is_reported_by_what_it_holds() -> None:
    fake = FakeRegistry()
    fake.attach("acme/api", SUBJECT, ENVELOPE, artifact_type="application/vnd.in-toto+json")
    fake.attach(
        "acme/api",
        SUBJECT,
        b'{"_type": "https://in-toto.io/Statement/v1"}',
        artifact_type="application/vnd.in-toto+json",
    )
    docs = await read(fake)
    assert sorted(d.media_type for d in docs) == [DSSE_ENVELOPE, "application/vnd.in-toto+json"]


async def test_404_on_both_the_api_and_the_tag_means_no_document() -> None:
    docs = await read(FakeRegistry(referrers_api=False))
    assert docs == ()
    assert await read(FakeRegistry()) == ()  # an empty referrers index


async def test_a_blob_that_does_not_match_its_digest_is_a_problem() -> None:
    fake = FakeRegistry()
    lie = sha256(b"what the manifest promised")
    fake.attach("acme/api", SUBJECT, BUNDLE, layer_digest=lie)
    docs = await read(fake)
    assert len(docs) == 1 and not docs[0].body
    assert "does not match its digest" in docs[0].problem, docs[0].problem
    assert docs[0].kind is EvidenceKind.PROVENANCE and docs[0].subject == SUBJECT


async def test_a_manifest_that_does_not_match_its_digest_is_a_problem() -> None:
    fake = FakeRegistry()
    ref = fake.attach("acme/api", SUBJECT, BUNDLE)
    media, raw = fake.manifests[("acme/api", ref)]
    fake.manifests[("acme/api", ref)] = (media, raw.replace(b"dsse-envelope", b"dsse-envelopf"))
    docs = await read(fake)
    assert len(docs) == 1 and "manifest" in docs[0].problem and "does not match" in docs[0].problem


async def test_an_attestation_larger_than_the_bound_is_a_problem() -> None:
    fake = FakeRegistry()
    big = b"x" * 5000
    fake.attach("acme/api", SUBJECT, big)
    docs = await read(fake, max_evidence_bytes=4096)
    assert len(docs) == 1 and "more than max_evidence_bytes" in docs[0].problem, docs[0].problem
    # A layer that declares a small size but streams more is cut off at the bound too.
    fake = FakeRegistry()
    fake.attach("acme/api", SUBJECT, big, layer_size=100)
    docs = await read(fake, max_evidence_bytes=4096)
    assert len(docs) == 1 and "larger than" in docs[0].problem, docs[0].problem


async def test_a_server_error_is_a_problem_and_is_retried_later() -> None:
    fake = FakeRegistry()
    fake.attach("acme/api", SUBJECT, BUNDLE)
    fake.faults[r"/referrers/"] = lambda r: httpx.Response(500, text="oops")
    c = connector(fake)
    try:
        docs = await c.evidence()
        assert len(docs) == 1 and "500" in docs[0].problem and not docs[0].body
        assert docs[0].kind is EvidenceKind.PROVENANCE and docs[0].subject == SUBJECT
        del fake.faults[r"/referrers/"]
        again = await c.evidence()  # within the retry delay: the problem is kept
        assert again == docs
    finally:
        await c.aclose()
        await c.client.aclose()  # type: ignore[union-attr]


async def test_a_found_attestation_is_not_read_again() -> None:
    fake = FakeRegistry()
    fake.attach("acme/api", SUBJECT, BUNDLE)
    c = connector(fake)
    try:
        first = await c.evidence()
        reads = len([r for r in fake.seen if "/referrers/" in r.url.path])
        second = await c.evidence()
        assert second is first  # the same tuple: the hub sees no change
        assert len([r for r in fake.seen if "/referrers/" in r.url.path]) == reads
    finally:
        await c.aclose()
        await c.client.aclose()  # type: ignore[union-attr]


async def test_a_registry_that_is_down_fails_the_poll() -> None:
    fake = FakeRegistry()
    fake.faults[r"/v2/$"] = lambda r: httpx.Response(503, text="down for maintenance")
    c = connector(fake)
    with pytest.raises(ConnectorError, match="503"):
        await c.poll()
    await c.client.aclose()  # type: ignore[union-attr]


async def test_a_malformed_digest_is_never_put_into_a_path() -> None:
    fake = FakeRegistry()
    c = connector(fake)
    c.known_artifacts = (("api", "1.4.2", "sha256:../../etc"),)
    try:
        assert await c.evidence() == ()  # the hub names only sha256 digests; nothing read
        assert not [r for r in fake.seen if "/referrers/" in r.url.path]
    finally:
        await c.aclose()
        await c.client.aclose()  # type: ignore[union-attr]


async def test_every_page_of_the_referrers_index_is_read_and_each_referrer_once() -> None:
    fake = FakeRegistry(page_size=2)
    refs = [
        fake.attach("acme/api", SUBJECT, BUNDLE.replace(b"{}", f'{{"n": {n}}}'.encode()))
        for n in range(5)
    ]
    fake.referrers[("acme/api", SUBJECT)].append(dict(fake.referrers[("acme/api", SUBJECT)][0]))
    docs = await read(fake)
    assert sorted(d.ref for d in docs) == sorted(f"acme/api@{r}" for r in refs)
    assert len([r for r in fake.seen if "/referrers/" in r.url.path]) == 3


async def test_a_basic_challenge_is_answered_with_the_credentials() -> None:
    fake = FakeRegistry(auth="basic", password=PASSWORD)
    fake.attach("acme/api", SUBJECT, BUNDLE)
    docs = await read(fake, username=USER, password="env:REGISTRY_PASSWORD")
    assert [d.problem for d in docs] == [""]
    assert not [r for r in fake.seen if str(r.url).startswith(REALM)]
    with pytest.raises(Unauthorized, match="username and password"):
        await read(fake)  # anonymous: refused, in words


async def test_a_repository_that_asks_for_auth_behind_an_open_root_gets_its_token() -> None:
    fake = FakeRegistry(open_root=True)
    fake.attach("acme/api", SUBJECT, BUNDLE)
    docs = await read(fake)
    assert [d.problem for d in docs] == [""]
    assert fake.tokens_minted == 1
