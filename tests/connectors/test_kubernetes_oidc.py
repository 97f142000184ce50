"""kubeconfig `auth-provider: oidc`: the id-token while valid, a refresh at the issuer when not.

The cluster is the fake API server and the issuer a recorded OpenID provider (discovery
document and token endpoint, RFC 6749 refresh grant), both behind the connector's
transport factory.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import yaml

from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from connectors.kube.client import DEPLOYMENTS
from connectors.kube.kubeconfig import KubeconfigError
from connectors.kubernetes import KubernetesConnector, KubernetesOptions
from tests.fixtures.kubernetes.fakeapi import FakeKubeAPI
from tests.fixtures.kubernetes.kit import NOW, cluster

ISSUER = "https://idp.test/realms/ops"


def jwt(expires: datetime, sub: str) -> str:
    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'sub': sub, 'exp': int(expires.timestamp())})}.c2ln"


class Issuer:
    """An OpenID provider that refreshes once per call, recording each form it got."""

    def __init__(self) -> None:
        self.forms: list[dict[str, list[str]]] = []
        self.auth: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/realms/ops/.well-known/openid-configuration":
            return httpx.Response(
                200, json={"issuer": ISSUER, "token_endpoint": f"{ISSUER}/protocol/token"}
            )
        assert request.method == "POST" and request.url.path == "/realms/ops/protocol/token"
        self.forms.append(parse_qs(request.content.decode()))
        self.auth.append(request.headers.get("authorization", ""))
        n = len(self.forms)
        return httpx.Response(
            200,
            json={
                "access_token": "opaque",
                "token_type": "Bearer",
                "id_token": jwt(NOW + timedelta(hours=n), f"fresh-{n}"),
                "refresh_token": f"refresh-{n + 1}",
                "expires_in": 3600,
            },
        )


def routed(fake: FakeKubeAPI, issuer: Issuer) -> Any:
    """The transport factory: the issuer's host to the IdP, everything else to the cluster."""
    cluster_side = fake.transport()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "idp.test":
            return issuer.handle(request)
        return await cluster_side.handle_async_request(request)

    return lambda verify: httpx.MockTransport(handler)


def connector(tmp_path: Path, fake: FakeKubeAPI, issuer: Issuer, **config: str) -> Any:
    doc = {
        "current-context": "oidc",
        "clusters": [{"name": "c", "cluster": {"server": "https://kube.test:6443"}}],
        "users": [{"name": "me", "user": {"auth-provider": {"name": "oidc", "config": config}}}],
        "contexts": [
            {"name": "oidc", "context": {"cluster": "c", "user": "me", "namespace": "shop"}}
        ],
    }
    (tmp_path / "kc").write_text(yaml.safe_dump(doc))
    options = opt.parse(KubernetesOptions, {"kubeconfig": str(tmp_path / "kc"), "history": False})
    clock = FixedClock(NOW)
    made = KubernetesConnector(
        "k8s", options, client=None, clock=clock, transport=routed(fake, issuer)
    )
    made.live = False
    return made, clock


CONFIG = {"client-id": "cockpit", "client-secret": "s3cret", "idp-issuer-url": ISSUER}


async def test_a_valid_id_token_is_sent_without_asking_the_issuer(tmp_path: Path) -> None:
    token = jwt(NOW + timedelta(minutes=30), "valid")
    fake, issuer = cluster(token=token), Issuer()
    k8s, _ = connector(
        tmp_path, fake, issuer, **CONFIG, **{"id-token": token, "refresh-token": "r1"}
    )
    try:
        deps = await k8s.deployments()
    finally:
        await k8s.aclose()
    assert deps and issuer.forms == []


async def test_an_expired_id_token_is_refreshed_and_refreshed_again_when_that_expires(
    tmp_path: Path,
) -> None:
    fake, issuer = cluster(token=""), Issuer()
    fresh = {jwt(NOW + timedelta(hours=n), f"fresh-{n}") for n in (1, 2)}
    fake.tokens = set(fresh)
    stale = jwt(NOW - timedelta(minutes=1), "stale")
    k8s, clock = connector(
        tmp_path, fake, issuer, **CONFIG, **{"id-token": stale, "refresh-token": "refresh-1"}
    )
    try:
        await k8s.deployments()
        kube = await k8s.kube()
        await kube.get(DEPLOYMENTS.item("shop", "web"))
        assert len(issuer.forms) == 1
        clock.advance(3600)  # fresh-1 expires at NOW + 1 h
        await kube.get(DEPLOYMENTS.item("shop", "web"))
    finally:
        await k8s.aclose()
    assert [f["refresh_token"] for f in issuer.forms] == [["refresh-1"], ["refresh-2"]]
    assert all(f["grant_type"] == ["refresh_token"] for f in issuer.forms)
    basic = base64.b64encode(b"cockpit:s3cret").decode()
    assert issuer.auth == [f"Basic {basic}"] * 2
    sent = {s.headers["authorization"].removeprefix("Bearer ") for s in fake.seen}
    assert sent == fresh


async def test_an_expired_id_token_without_a_refresh_token_fails_clearly(tmp_path: Path) -> None:
    stale = jwt(NOW - timedelta(minutes=1), "stale")
    k8s, _ = connector(tmp_path, cluster(), Issuer(), **{"id-token": stale})
    try:
        with pytest.raises(KubeconfigError) as caught:
            await k8s.deployments()
    finally:
        await k8s.aclose()
    assert "the OIDC id-token has expired and the kubeconfig has no refresh-token" in str(
        caught.value
    )
    assert stale not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("gcp", "removed in kubectl 1.26; use the gke-gcloud-auth-plugin exec plugin"),
        ("azure", "removed in kubectl 1.26; use the kubelogin exec plugin"),
    ],
)
async def test_removed_auth_providers_name_their_exec_plugin(
    tmp_path: Path, name: str, problem: str
) -> None:
    doc = {
        "current-context": "x",
        "clusters": [{"name": "c", "cluster": {"server": "https://kube.test:6443"}}],
        "users": [{"name": "me", "user": {"auth-provider": {"name": name, "config": {}}}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "me"}}],
    }
    (tmp_path / "kc").write_text(yaml.safe_dump(doc))
    options = opt.parse(KubernetesOptions, {"kubeconfig": str(tmp_path / "kc")})
    k8s = KubernetesConnector("k8s", options, client=None, clock=FixedClock(NOW))
    with pytest.raises(KubeconfigError, match=problem):
        await k8s.deployments()
