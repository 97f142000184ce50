"""Kubeconfig contexts: server, CA, tokens, client certificates, namespaces, clear errors,
and a TLS loopback API server that checks the CA and the client certificate for real."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connect import options as opt
from cockpit.errors import Unreachable
from cockpit.fleet.hub import default_client
from connectors.kube import kubeconfig
from connectors.kube.kubeconfig import KubeconfigError
from connectors.kubernetes import KubernetesConnector, KubernetesOptions
from tests.fixtures.kubernetes.kit import NOW, certificates, cluster
from tests.fixtures.kubernetes.loopback import LoopbackServer

CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def config(**users: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "prod",
        "clusters": [
            {
                "name": "prod-cluster",
                "cluster": {
                    "server": "https://10.0.0.1:6443",
                    "certificate-authority-data": b64(CA_PEM),
                },
            },
            {
                "name": "lab",
                "cluster": {
                    "server": "https://lab:6443",
                    "certificate-authority": "certs/lab-ca.crt",
                    "insecure-skip-tls-verify": True,
                },
            },
        ],
        "users": [{"name": name, "user": user} for name, user in users.items()],
        "contexts": [
            {
                "name": "prod",
                "context": {"cluster": "prod-cluster", "user": "deployer", "namespace": "shop"},
            },
            {"name": "lab", "context": {"cluster": "lab", "user": "tester"}},
            {"name": "eks", "context": {"cluster": "prod-cluster", "user": "aws"}},
            {"name": "broken", "context": {"cluster": "gone", "user": "deployer"}},
        ],
    }


USERS: dict[str, dict[str, Any]] = {
    "deployer": {"token": "sa-token-123"},
    "tester": {
        "client-certificate-data": b64("CERT"),
        "client-key-data": b64("KEY"),
        "tokenFile": "tok",
    },
    "aws": {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token"],
        }
    },
}


def test_the_current_context_gives_server_ca_data_token_and_namespace(tmp_path: Path) -> None:
    access = kubeconfig.load([write(tmp_path / "config", config(**USERS))])
    assert (access.server, access.context, access.namespace) == (
        "https://10.0.0.1:6443",
        "prod",
        "shop",
    )
    assert access.ca_data == CA_PEM and access.token == "sa-token-123"
    assert "sa-token-123" not in repr(access)


def test_a_named_context_gives_client_certificates_paths_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text("file-token\n")
    access = kubeconfig.load([write(tmp_path / "config", config(**USERS))], "lab")
    assert (access.cert_data, access.key_data) == (b"CERT", b"KEY")
    assert access.ca_file == str(tmp_path / "certs/lab-ca.crt")  # relative to the file
    assert access.insecure and access.namespace == "default"
    assert access.token_file == str(tmp_path / "tok") and access.current_token() == "file-token"


def test_kubeconfig_lists_merge_with_the_first_definition_winning(tmp_path: Path) -> None:
    first = write(
        tmp_path / "a",
        {"current-context": "", "users": [{"name": "deployer", "user": {"token": "first"}}]},
    )
    second = write(tmp_path / "b", config(**USERS))
    access = kubeconfig.load(kubeconfig.default_paths({"KUBECONFIG": f"{first}:{second}"}))
    assert (access.context, access.token) == ("prod", "first")


@pytest.mark.parametrize(
    ("context", "problem"),
    [
        (
            "staging",
            "context 'staging' not found in the kubeconfig (known: broken, eks, lab, prod)",
        ),
        ("broken", "names cluster 'gone', which is not defined"),
    ],
)
def test_unusable_contexts_say_why(tmp_path: Path, context: str, problem: str) -> None:
    with pytest.raises(KubeconfigError) as caught:
        kubeconfig.load([write(tmp_path / "config", config(**USERS))], context)
    assert problem in str(caught.value)


def test_a_missing_kubeconfig_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="no kubeconfig found at"):
        kubeconfig.load([tmp_path / "nope"])


def test_invalid_base64_is_named(tmp_path: Path) -> None:
    doc = config(**USERS)
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = "%%%"
    with pytest.raises(KubeconfigError, match="certificate-authority-data is not valid base64"):
        kubeconfig.load([write(tmp_path / "config", doc)])


async def test_the_connector_reports_a_bad_context_as_its_error(tmp_path: Path) -> None:
    path = write(tmp_path / "config", config(**USERS))
    options = opt.parse(KubernetesOptions, {"kubeconfig": str(path), "context": "broken"})
    connector = KubernetesConnector("k8s", options, client=None, clock=FixedClock(NOW))
    with pytest.raises(KubeconfigError, match="names cluster 'gone', which is not defined"):
        await connector.poll()


async def test_tls_with_the_kubeconfig_ca_and_client_certificate_data(tmp_path: Path) -> None:
    """A real TLS handshake: the server trusts only the throwaway CA's client certificate."""
    certs = certificates(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs["ca.crt"]))
    server_tls.load_cert_chain(certs["server.crt"], certs["server.key"])
    server_tls.verify_mode = ssl.CERT_REQUIRED
    fake = cluster(token="")
    with LoopbackServer(fake, server_tls) as server:
        doc = {
            "current-context": "fake",
            "clusters": [
                {
                    "name": "fake",
                    "cluster": {
                        "server": server.url,
                        "certificate-authority-data": b64(certs["ca.crt"].read_bytes()),
                    },
                }
            ],
            "users": [
                {
                    "name": "me",
                    "user": {
                        "client-certificate-data": b64(certs["client.crt"].read_bytes()),
                        "client-key-data": b64(certs["client.key"].read_bytes()),
                    },
                }
            ],
            "contexts": [
                {"name": "fake", "context": {"cluster": "fake", "user": "me", "namespace": "shop"}}
            ],
        }
        options = opt.parse(
            KubernetesOptions, {"kubeconfig": str(write(tmp_path / "kc", doc)), "history": False}
        )
        client = default_client(
            ConnectorSpec("k8s", "kubernetes", KubernetesConnector, options, 10, 10, 30)
        )
        connector = KubernetesConnector("k8s", options, client=client, clock=FixedClock(NOW))
        try:
            deps = await connector.deployments()
            # The hub's client knows no CA: the connector used its own, built from the context.
            assert connector._owned is not None and connector._owned is not client
        finally:
            await connector.aclose()
            await client.aclose()
    assert {d.service for d in deps} >= {"web", "checkout"}


async def test_the_transport_factory_gets_the_contexts_tls_and_plain_contexts_use_the_hubs_client(
    tmp_path: Path,
) -> None:
    """The explicit seam: no peeking into httpx's private transport to decide."""
    certs = certificates(tmp_path)
    fake = cluster(token="sa-token-123")
    given: list[object] = []

    def factory(verify: ssl.SSLContext | bool) -> httpx.AsyncBaseTransport:
        given.append(verify)
        return fake.transport()

    users = {"deployer": {"token": "sa-token-123"}}
    doc = config(**users)
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = b64(certs["ca.crt"].read_bytes())
    options = opt.parse(
        KubernetesOptions, {"kubeconfig": str(write(tmp_path / "kc", doc)), "history": False}
    )
    spec = ConnectorSpec("k8s", "kubernetes", KubernetesConnector, options, 10, 10, 30)
    hub_client = default_client(spec)
    own = KubernetesConnector(
        "k8s", options, client=hub_client, clock=FixedClock(NOW), transport=factory
    )
    own.live = False
    try:
        assert await own.deployments()
    finally:
        await own.aclose()
    assert len(given) == 1 and isinstance(given[0], ssl.SSLContext)

    del doc["clusters"][0]["cluster"]["certificate-authority-data"]
    plain_options = opt.parse(
        KubernetesOptions, {"kubeconfig": str(write(tmp_path / "kc2", doc)), "history": False}
    )
    plain = KubernetesConnector("k8s", plain_options, client=hub_client, clock=FixedClock(NOW))
    try:
        assert (await plain.kube()).client is hub_client  # the hub's cap and pool are kept
    finally:
        await plain.aclose()
        await hub_client.aclose()


async def test_a_contexts_own_client_applies_the_configured_body_cap(tmp_path: Path) -> None:
    """A context with TLS of its own gets a client of its own: the config's
    max_response_bytes (which the hub sets on the connector) caps it as it caps the hub's."""
    certs = certificates(tmp_path)
    fake = cluster(token="sa-token-123")
    doc = config(deployer={"token": "sa-token-123"})
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = b64(certs["ca.crt"].read_bytes())
    options = opt.parse(
        KubernetesOptions, {"kubeconfig": str(write(tmp_path / "kc", doc)), "history": False}
    )
    own = KubernetesConnector(
        "k8s", options, client=None, clock=FixedClock(NOW), transport=lambda v: fake.transport()
    )
    own.live = False
    own.max_response_bytes = 1024  # the hub sets the config's value
    try:
        with pytest.raises(Unreachable, match="larger than 1 KiB"):
            await own.deployments()
    finally:
        await own.aclose()
