"""kubeconfig `exec` credential plugins (client.authentication.k8s.io v1 and v1beta1).

How client-go runs them, which is what `aws eks get-token`, `gke-gcloud-auth-plugin` and
`kubelogin` expect: the command with its args, the kubeconfig's env on top of ours, and
KUBERNETES_EXEC_INFO describing the request. The plugin prints an ExecCredential whose
status holds a token or a client certificate, and maybe an expirationTimestamp. Its stdin
is never attached: the cockpit owns the terminal (or there is none, over SSH), so the
plugin is always told `interactive: false`; a plugin that insists on a terminal is refused
when the kubeconfig is read. The credential is cached until it expires or a 401 refuses it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cockpit.clock import Clock
from cockpit.sanitize import clean
from connectors.kube.credentials import Credential, Credentials
from connectors.kube.kubeconfig import Access, ExecConfig, KubeconfigError

TIMEOUT = 60.0  # seconds; a cloud CLI may fetch a token over the network


def exec_info(plugin: ExecConfig) -> str:
    """The KUBERNETES_EXEC_INFO value for one run."""
    spec: dict[str, Any] = {"interactive": False}
    if plugin.cluster is not None:
        spec["cluster"] = plugin.cluster
    return json.dumps({"apiVersion": plugin.api_version, "kind": "ExecCredential", "spec": spec})


def plugin_env(plugin: ExecConfig, base: Mapping[str, str]) -> dict[str, str]:
    env = {**base, **dict(plugin.env)}
    env["KUBERNETES_EXEC_INFO"] = exec_info(plugin)
    return env


def parse_credential(plugin: ExecConfig, output: bytes) -> Credential:
    """The ExecCredential a plugin printed, checked as client-go checks it."""
    name = _name(plugin)
    try:
        doc = json.loads(output)
    except (ValueError, UnicodeDecodeError):
        raise KubeconfigError(f"credential plugin {name} did not print JSON") from None
    if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
        raise KubeconfigError(f"credential plugin {name} did not print an ExecCredential")
    if doc.get("apiVersion") != plugin.api_version:
        raise KubeconfigError(
            f"credential plugin {name} answered in {clean(str(doc.get('apiVersion')))!r}, "
            f"the kubeconfig asks for {plugin.api_version!r}"
        )
    status = doc.get("status") or {}
    token = str(status.get("token") or "")
    cert = str(status.get("clientCertificateData") or "").encode()
    key = str(status.get("clientKeyData") or "").encode()
    if bool(cert) != bool(key):
        raise KubeconfigError(
            f"credential plugin {name} gave a client certificate without its key, or a key "
            "without its certificate"
        )
    if not token and not cert:
        raise KubeconfigError(f"credential plugin {name} gave neither a token nor a certificate")
    return Credential(token=token, cert=cert, key=key, expires=_expiry(status, name))


def _expiry(status: Mapping[str, Any], name: str) -> datetime | None:
    value = status.get("expirationTimestamp")
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise KubeconfigError(
            f"credential plugin {name} gave an expirationTimestamp that is not RFC 3339"
        )
    return when


def _name(plugin: ExecConfig) -> str:
    return repr(clean(os.path.basename(plugin.command)))


class ExecCredentials(Credentials):
    """Runs the plugin when there is no credential, it expired, or the server refused it."""

    def __init__(self, access: Access, clock: Clock, env: Mapping[str, str] | None = None) -> None:
        super().__init__(access)
        assert access.plugin is not None
        self.plugin = access.plugin
        self.clock = clock
        self.env = os.environ if env is None else env
        self.runs = 0
        self._lock = asyncio.Lock()  # concurrent requests wait for one run, not start many

    async def current(self) -> Credential:
        async with self._lock:
            held = self._held
            if held is None or held.expired(self.clock.now()):
                self._held = held = await self._run()
            return held

    def refused(self, credential: Credential) -> None:
        if self._held == credential:
            self._held = None

    async def _run(self) -> Credential:
        plugin, name = self.plugin, _name(self.plugin)
        self.runs += 1
        try:
            proc = await asyncio.create_subprocess_exec(
                plugin.command,
                *plugin.args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=plugin_env(plugin, self.env),
            )
        except FileNotFoundError:
            hint = f" ({clean(plugin.install_hint, limit=200)})" if plugin.install_hint else ""
            raise KubeconfigError(f"credential plugin {name} is not installed{hint}") from None
        except PermissionError:
            raise KubeconfigError(f"credential plugin {name} is not executable") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise KubeconfigError(
                f"credential plugin {name} gave no credential within {TIMEOUT:.0f}s"
            ) from None
        if proc.returncode != 0:
            raise KubeconfigError(
                f"credential plugin {name} exited with {proc.returncode}: {_last_line(err)}"
            )
        return parse_credential(plugin, out)


def _last_line(err: bytes) -> str:
    """The plugin's last stderr line (where CLIs put the reason), made safe and short."""
    lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
    return clean(lines[-1].strip(), limit=200) if lines else "no message"
