"""HTTP connectors in a company network: a private CA, client certificates and a proxy, on
loopback with a PKI made by openssl in the test (issue 12 §5)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit import config
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connect.http_tls import requests_settings
from cockpit.connect.option_help import option_docs
from cockpit.connect.options import parse
from cockpit.connector import Connector
from cockpit.errors import ConfigError, Unreachable
from cockpit.fleet.hub import Hub, default_client
from cockpit.model import Environment
from connectors.alertmanager import AlertmanagerConnector
from connectors.grafana import GrafanaConnector
from connectors.prometheus import PrometheusOptions
from connectors.prometheus.client import Queries
from tests.fixtures.network import Pki, forwarding_proxy, http_server, https_server, make_pki

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2026, 8, 24, 10, 12, tzinfo=UTC)
TOKEN = "c0mpany-netw0rk-t0ken"
ENV = {"TOKEN": TOKEN}
ROUTES = {
    "/api/v2/alerts": (FIXTURES / "alertmanager" / "alerts.json").read_bytes(),
    "/api/annotations": (FIXTURES / "grafana" / "annotations.json").read_bytes(),
    "/api/v1/query": json.dumps(
        {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, "0.25"]}]},
        }
    ).encode(),
}
# Two connectors whose options go through the same mixin and the hub's client factory.
CONNECTORS: dict[str, tuple[type[Connector], dict[str, Any], str]] = {
    "alertmanager": (AlertmanagerConnector, {"bearer_token": "env:TOKEN"}, "alerts"),
    "grafana": (GrafanaConnector, {"token": "env:TOKEN"}, "annotations"),
}


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", TOKEN)  # secrets are read when the connector starts


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def seen() -> list[str]:
    return []


@pytest.fixture
def server(pki: Pki, seen: list[str]) -> Iterator[str]:
    with https_server(pki, ROUTES, seen) as url:
        yield url


def build(kind: str, url: str, **network: object) -> tuple[Connector, ConnectorSpec]:
    """The connector as the hub builds it: options parsed from YAML data, default client."""
    cls, auth, _ = CONNECTORS[kind]
    options: Any = parse(cls.Options, {"url": url, **auth, **network}, env=ENV)
    spec = ConnectorSpec(kind, kind, cls, options, 30.0, 5.0, 120.0, max_response_bytes=1 << 20)
    return cls(kind, options, client=default_client(spec), clock=FixedClock(NOW)), spec


async def read(kind: str, connector: Connector) -> Any:
    try:
        return await getattr(connector, CONNECTORS[kind][2])()
    finally:
        assert connector.client is not None
        await connector.client.aclose()


def mutual(pki: Pki) -> dict[str, str]:
    return {
        "ca_file": str(pki.ca),
        "client_cert": str(pki.client_cert),
        "client_key": str(pki.client_key),
    }


def assert_one_clean_line(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message and TOKEN not in message


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
async def test_ca_file_and_client_certificate_reach_a_server_requiring_them(
    kind: str, pki: Pki, server: str, seen: list[str]
) -> None:
    connector, _ = build(kind, server, **mutual(pki))
    assert len(await read(kind, connector)) > 0
    assert seen


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
async def test_without_ca_file_the_server_certificate_fails_verification_in_one_line(
    kind: str, pki: Pki, server: str
) -> None:
    network = {k: v for k, v in mutual(pki).items() if k != "ca_file"}
    connector, _ = build(kind, server, **network)
    with pytest.raises(Unreachable) as caught:
        await read(kind, connector)
    message = str(caught.value)
    assert "TLS certificate verify failed (" in message and "is ca_file the CA" in message
    assert_one_clean_line(message)


async def test_a_ca_file_of_another_ca_replaces_the_system_store_and_is_refused(
    pki: Pki, server: str
) -> None:
    connector, _ = build("grafana", server, **{**mutual(pki), "ca_file": str(pki.other_ca)})
    with pytest.raises(Unreachable, match="TLS certificate verify failed"):
        await read("grafana", connector)


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
async def test_without_a_client_certificate_the_refused_handshake_is_named(
    kind: str, pki: Pki, server: str, seen: list[str]
) -> None:
    connector, _ = build(kind, server, ca_file=str(pki.ca))
    with pytest.raises(Unreachable) as caught:
        await read(kind, connector)
    message = str(caught.value)
    assert "TLS handshake refused by the server" in message
    assert "client certificate (client_cert, client_key)" in message
    assert_one_clean_line(message)
    assert seen == []


async def test_prometheus_queries_use_the_same_options_through_requests(
    pki: Pki, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read by requests unless told not to; the options alone decide, as for httpx.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.other_ca))

    def queries(**network: str) -> Queries:
        options = parse(PrometheusOptions, {"url": server, **network})
        return Queries(server, name="prom", timeout=5.0, network=requests_settings(options))

    assert await queries(**mutual(pki)).value("up", NOW) == 0.25
    with pytest.raises(Unreachable) as caught:
        await queries(ca_file=str(pki.ca)).value("up", NOW)
    assert "TLS handshake refused by the server" in str(caught.value)
    with pytest.raises(Unreachable, match="TLS certificate verify failed"):
        await queries().value("up", NOW)


@pytest.mark.parametrize("kind", sorted(CONNECTORS))
async def test_the_proxy_option_sends_every_request_through_the_proxy(
    kind: str, seen: list[str]
) -> None:
    forwarded: list[str] = []
    with http_server(ROUTES, seen) as origin, forwarding_proxy(forwarded) as proxy:
        connector, _ = build(kind, origin, proxy=proxy)
        assert len(await read(kind, connector)) > 0
    assert len(forwarded) == 1 and forwarded[0].startswith(origin)
    assert len(seen) == 1


async def test_the_response_cap_applies_through_the_proxy(seen: list[str]) -> None:
    forwarded: list[str] = []
    big = {**ROUTES, "/api/annotations": b"[" + b" " * (2 << 20) + b"]"}
    with http_server(big, seen) as origin, forwarding_proxy(forwarded) as proxy:
        connector, _ = build("grafana", origin, proxy=proxy)
        with pytest.raises(Unreachable, match="response larger than 1 MiB, refused"):
            await read("grafana", connector)
    assert len(forwarded) == 1


@pytest.mark.parametrize(
    ("network", "problem"),
    [
        ({"client_key": "/k.pem"}, "client_key needs client_cert"),
        ({"proxy": "socks5://proxy:1080"}, "proxy must be an http:// or https:// URL"),
        ({"ca_file": "/ca.pem", "verify_tls": False}, "ca_file is unused when verify_tls is false"),
    ],
)
def test_contradictory_network_options_are_config_errors(
    network: dict[str, object], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse(GrafanaConnector.Options, {"url": "https://g.example", "token": "env:T", **network})


async def test_a_missing_ca_file_stops_that_connector_alone_with_a_named_problem(
    tmp_path: Path,
) -> None:
    missing = str(tmp_path / "company-ca.pem")
    broken = ConnectorSpec(
        "grafana", "grafana", GrafanaConnector, parse(
            GrafanaConnector.Options,
            {"url": "https://grafana.example", "token": "env:TOKEN", "ca_file": missing},
            env=ENV,
        ), 30.0, 5.0, 120.0,
    )  # fmt: skip
    hub = Hub([broken], (Environment("prod", 0, True),), clock=FixedClock(NOW))
    hub.open()
    assert hub.problems == [
        f"connector 'grafana' failed to start: NetworkSetupError: ca_file {missing}: no such file"
    ]


def test_verify_tls_false_is_logged_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    _, spec = build("grafana", "https://grafana.example", verify_tls=False)
    with caplog.at_level(logging.WARNING, logger="cockpit.connect.http_tls"):
        default_client(spec)
    assert "verify_tls is false, server certificates are NOT checked" in caplog.text


def test_network_options_are_listed_after_the_connectors_own() -> None:
    names = [doc.key for doc in option_docs(GrafanaConnector.Options)]
    assert names[0] == "url"
    assert names[-4:] == ["ca_file", "client_cert", "client_key", "proxy"]


def test_the_readme_company_network_example_is_a_valid_config(tmp_path: Path) -> None:
    readme = (FIXTURES.parents[1] / "README.md").read_text()
    section = readme.split("### Company networks", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "cockpit.yaml").write_text(example)
    settings = config.load(str(tmp_path / "cockpit.yaml"), env={}, resolve_secrets=False)
    (argocd,) = settings.connectors
    assert argocd.options.ca_file == "/etc/pki/corp-root-ca.pem"
    assert argocd.options.proxy == "http://proxy.corp.example:3128"
