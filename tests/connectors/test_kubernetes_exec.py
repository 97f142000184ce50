"""kubeconfig exec credential plugins and OIDC auth-provider tokens, against the fake API server.

The plugin is a real executable script (tests/fixtures/kubernetes/plugin.py) that counts
its runs and issues tokens with a short expirationTimestamp; the fake API server accepts
only the tokens the test allows, so every assertion is about what reached the wire.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cockpit.clock import FixedClock
from cockpit.connect import options as opt
from cockpit.errors import Unauthorized
from connectors.kube.client import DEPLOYMENTS
from connectors.kube.exec_plugin import parse_credential
from connectors.kube.kubeconfig import ExecConfig, KubeconfigError, load
from connectors.kubernetes import KubernetesConnector, KubernetesOptions
from tests.fixtures.kubernetes.fakeapi import FakeKubeAPI
from tests.fixtures.kubernetes.kit import NOW, cluster
from tests.fixtures.kubernetes.plugin import (
    Runs,
    plugin_env,
    restore_stdin,
    stdin_is_a_pipe,
    write_plugin,
)

SERVER = "https://kube.test:6443"
V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n")


def kubeconfig(tmp_path: Path, user: dict[str, Any], **cluster_extra: Any) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "eks",
        "clusters": [{"name": "eks", "cluster": {"server": SERVER, **cluster_extra}}],
        "users": [{"name": "aws", "user": user}],
        "contexts": [
            {"name": "eks", "context": {"cluster": "eks", "user": "aws", "namespace": "shop"}}
        ],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


def exec_user(tmp_path: Path, runs: Runs, lifetime: int = 300, **spec: Any) -> dict[str, Any]:
    return {
        "exec": {
            "apiVersion": V1,
            "command": str(write_plugin(tmp_path)),
            "args": ["eks", "get-token", "--cluster-name", "prod"],
            "env": plugin_env(runs, NOW.isoformat(), lifetime),
            "interactiveMode": "Never",
            **spec,
        }
    }


def connector(path: Path, fake: FakeKubeAPI, clock: FixedClock, **kw: Any) -> KubernetesConnector:
    options = opt.parse(KubernetesOptions, {"kubeconfig": str(path), "history": False})
    client = httpx.AsyncClient(transport=fake.transport())
    made = KubernetesConnector("k8s", options, client=client, clock=clock, **kw)
    made.live = False  # one list per resource, no background watch: every request is the test's
    return made


@pytest.fixture
def piped_stdin() -> Iterator[None]:
    """Our stdin is a pipe for the test, so a plugin that inherited it would show it."""
    saved = stdin_is_a_pipe()
    try:
        yield
    finally:
        restore_stdin(saved)


def bearers(fake: FakeKubeAPI) -> list[str]:
    return [s.headers.get("authorization", "") for s in fake.seen]


@pytest.mark.usefixtures("piped_stdin")
async def test_an_exec_plugin_runs_once_while_valid_again_after_expiry_and_after_a_401(
    tmp_path: Path,
) -> None:
    runs = Runs(tmp_path)
    fake = cluster(token="")
    fake.tokens = {"tok-1", "tok-2", "tok-3"}
    clock = FixedClock(NOW)
    k8s = connector(kubeconfig(tmp_path, exec_user(tmp_path, runs)), fake, clock)
    try:
        await k8s.deployments()
        kube = await k8s.kube()
        for _ in range(5):
            await kube.get(DEPLOYMENTS.item("shop", "web"))
        assert runs.count == 1
        assert set(bearers(fake)) == {"Bearer tok-1"}

        clock.advance(301)  # tok-1 expired at NOW + 300 s
        await kube.get(DEPLOYMENTS.item("shop", "web"))
        assert runs.count == 2 and bearers(fake)[-1] == "Bearer tok-2"

        fake.tokens.discard("tok-2")  # revoked before its expiry: the server answers 401
        await kube.get(DEPLOYMENTS.item("shop", "web"))
        assert runs.count == 3 and bearers(fake)[-2:] == ["Bearer tok-2", "Bearer tok-3"]
    finally:
        await k8s.aclose()
    for n in (1, 2, 3):
        run = runs.run(n)
        assert run["stdin"] == "/dev/null"  # never our terminal (or pipe)
        assert run["argv"] == ["eks", "get-token", "--cluster-name", "prod"]
        assert run["info"] == {
            "apiVersion": V1,
            "kind": "ExecCredential",
            "spec": {"interactive": False},
        }


async def test_a_token_the_server_refuses_twice_is_unauthorized_after_one_more_run(
    tmp_path: Path,
) -> None:
    runs = Runs(tmp_path)
    fake = cluster(token="nobody-has-this")
    k8s = connector(kubeconfig(tmp_path, exec_user(tmp_path, runs)), fake, FixedClock(NOW))
    try:
        with pytest.raises(Unauthorized):
            await k8s.deployments()
    finally:
        await k8s.aclose()
    assert runs.count == 2  # the first token, and one fresh try: no loop


async def test_provide_cluster_info_hands_the_plugin_its_cluster(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    fake = cluster(token="tok-1")
    user = exec_user(tmp_path, runs, provideClusterInfo=True)
    path = kubeconfig(
        tmp_path,
        user,
        extensions=[{"name": "client.authentication.k8s.io/exec", "extension": {"region": "eu"}}],
    )
    k8s = connector(path, fake, FixedClock(NOW))
    try:
        await k8s.deployments()
    finally:
        await k8s.aclose()
    assert runs.run(1)["info"]["spec"]["cluster"] == {"server": SERVER, "config": {"region": "eu"}}


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"interactiveMode": "Always"}, "asks for a terminal (interactiveMode: Always)"),
        ({"interactiveMode": None}, "interactiveMode must be Never, IfAvailable or Always"),
        (
            {"apiVersion": "client.authentication.k8s.io/v1alpha1"},
            "apiVersion 'client.authentication.k8s.io/v1alpha1' is not supported",
        ),
    ],
)
def test_plugins_that_cannot_run_unattended_are_refused_when_the_kubeconfig_is_read(
    tmp_path: Path, spec: dict[str, Any], problem: str
) -> None:
    user = exec_user(tmp_path, Runs(tmp_path), **spec)
    with pytest.raises(KubeconfigError, match=re.escape(problem)):
        load([kubeconfig(tmp_path, user)])


def test_a_v1beta1_plugin_defaults_to_if_available_and_is_never_given_a_terminal(
    tmp_path: Path,
) -> None:
    user = exec_user(tmp_path, Runs(tmp_path), apiVersion=V1BETA1, interactiveMode=None)
    access = load([kubeconfig(tmp_path, user)])
    assert access.plugin is not None and access.plugin.interactive_mode == "IfAvailable"


async def test_a_failing_plugin_reports_its_last_stderr_line(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    user = exec_user(tmp_path, runs)
    user["exec"]["env"].append({"name": "PLUGIN_FAIL", "value": "SSO session expired\x1b[31m"})
    k8s = connector(kubeconfig(tmp_path, user), cluster(), FixedClock(NOW))
    try:
        with pytest.raises(KubeconfigError) as caught:
            await k8s.deployments()
    finally:
        await k8s.aclose()
    assert str(caught.value) == (
        "credential plugin 'fake-auth-plugin' exited with 1: SSO session expired^[[31m"
    )


async def test_a_missing_plugin_names_its_install_hint(tmp_path: Path) -> None:
    user = exec_user(tmp_path, Runs(tmp_path), command="no-such-plugin-here")
    user["exec"]["installHint"] = "install it with: brew install aws-iam-authenticator"
    k8s = connector(kubeconfig(tmp_path, user), cluster(), FixedClock(NOW))
    try:
        with pytest.raises(
            KubeconfigError, match="'no-such-plugin-here' is not installed \\(install"
        ):
            await k8s.deployments()
    finally:
        await k8s.aclose()


async def test_a_plugin_answering_another_api_version_is_refused(tmp_path: Path) -> None:
    user = exec_user(tmp_path, Runs(tmp_path))
    user["exec"]["env"].append({"name": "PLUGIN_ANSWER", "value": V1BETA1})
    k8s = connector(kubeconfig(tmp_path, user), cluster(), FixedClock(NOW))
    try:
        with pytest.raises(KubeconfigError, match=r"answered in .*v1beta1"):
            await k8s.deployments()
    finally:
        await k8s.aclose()


def test_a_plugin_may_answer_with_a_client_certificate() -> None:
    plugin = ExecConfig(api_version=V1, command="kubelogin")
    out = json.dumps(
        {
            "apiVersion": V1,
            "kind": "ExecCredential",
            "status": {
                "clientCertificateData": "-----BEGIN CERTIFICATE-----\n",
                "clientKeyData": "-----BEGIN PRIVATE KEY-----\n",
                "expirationTimestamp": "2026-08-24T10:45:00Z",
            },
        }
    ).encode()
    cred = parse_credential(plugin, out)
    assert cred.cert.startswith(b"-----BEGIN CERT") and cred.key.startswith(b"-----BEGIN PRIV")
    assert cred.token == "" and cred.expires == NOW + timedelta(minutes=15)
    assert "BEGIN" not in repr(cred)
