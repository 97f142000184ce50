"""End to end: the hub's snapshot, `cockpit status --json` and the TUI show Argo CD drift."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from cockpit.fleet.hub import Hub
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.model import Health
from screens.widgets import LiveTable
from tests.cli import status_json
from tests.fixtures.argocd.fake import CONFIG, ENVIRONMENTS, FIXTURES, NOW, TOKEN, FakeArgoCD, spec


async def test_the_hub_snapshot_has_deployments_drift_and_windows() -> None:
    fake = FakeArgoCD()
    hub = Hub(
        [spec()],
        ENVIRONMENTS,
        clock=FixedClock(NOW),
        client_factory=lambda s: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    assert snap.sources["argocd"].ok
    shop = snap.cell("shop", "prod")
    assert shop.deployment is not None and shop.deployment.version == "2.3.9"
    assert shop.drift is not None and len(shop.drift.items) == 6
    assert shop.drift.items[0].path == "spec.replicas"
    assert snap.cell("payments", "prod").deployment.health is Health.DEGRADED  # type: ignore[union-attr]
    assert sorted(snap.services) == ["batch", "ledger", "payments", "reports", "search", "shop"]
    assert {w.name for w in snap.windows} == {
        "Argo CD shop: allow 0 9 * * 1-5",
        "Argo CD shop: year-end freeze",
        "Argo CD payments: weekend freeze",
    }


async def test_the_running_hub_follows_stream_events() -> None:
    fake = FakeArgoCD()
    hub = Hub(
        [spec()],
        ENVIRONMENTS,
        clock=FixedClock(NOW),
        client_factory=lambda s: httpx.AsyncClient(transport=fake.transport()),
    )
    seen: asyncio.Queue[FleetSnapshot] = asyncio.Queue()
    hub.subscribe(seen.put_nowait)
    await hub.start()
    try:
        await fake.next_stream()
        prod = json.loads(json.dumps(fake.apps["shop-prod"]))
        prod["status"]["summary"]["images"] = ["registry.example.com/acme/web:2.3.10"]
        prod["status"]["health"] = {"status": "Progressing"}
        fake.change("MODIFIED", prod)

        async def version() -> str:
            while True:
                snap = await seen.get()
                dep = snap.cell("shop", "prod").deployment
                if dep is not None and dep.version == "2.3.10":
                    return dep.health.value

        # The interval is 30 s: only the stream's wake-up can bring this in time.
        assert await asyncio.wait_for(version(), 5) == "progressing"
    finally:
        await hub.stop()


async def test_verify_tls_false_reaches_the_hubs_http_client() -> None:
    import ssl

    from cockpit.fleet.hub import default_client

    insecure = spec()
    insecure.options.verify_tls = False
    for one, mode in ((spec(), ssl.CERT_REQUIRED), (insecure, ssl.CERT_NONE)):
        client = default_client(one)
        # httpx has no public accessor for the TLS context of its pool (under the body cap).
        pool = client._transport.inner._pool  # type: ignore[attr-defined]
        assert pool._ssl_context.verify_mode == mode
        await client.aclose()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "cockpit.yaml"


def test_cockpit_status_json_shows_applications_with_drift(config_file: Path) -> None:
    fake = FakeArgoCD()
    with fake.serve(stream_text=(FIXTURES / "stream.sse").read_text()) as url:
        config_file.write_text(CONFIG.format(url=url))
        env = {
            **os.environ,
            "ARGOCD_TOKEN": TOKEN,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        }
        out = status_json(config_file, env=env)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    (argocd,) = status["connectors"]
    assert (argocd["name"], argocd["type"], argocd["ok"]) == ("argocd", "argocd", True)
    services = {s["name"]: s["environments"] for s in status["services"]}
    shop = services["shop"]["prod"]
    assert shop["deployment"]["version"] == "2.3.9"
    assert [h["id"] for h in shop["deployment"]["history"]] == ["41", "40"]
    assert shop["drift_items"] == 6
    drift = {(d["service"], d["environment"]): d for d in status["drift"]}
    assert drift["shop", "prod"]["items"][0] == {
        "resource": "Deployment/shop/web",
        "path": "spec.replicas",
        "desired": "4",
        "live": "6",
    }
    assert set(drift) == {("shop", "prod"), ("batch", "dev"), ("reports", "staging")}
    assert TOKEN not in out.stdout + out.stderr
    asked = {(r.method, r.path) for r in fake.requests}
    assert ("GET", "/api/v1/applications") in asked


@pytest.fixture
def docs_settings(config_file: Path) -> config.Settings:
    docs = Path(__file__).resolve().parents[2] / "docs" / "connectors" / "argocd.md"
    example = docs.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    config_file.write_text(example)
    return config.load(str(config_file), env={"ARGOCD_TOKEN": TOKEN})


async def test_the_documented_example_config_works(docs_settings: config.Settings) -> None:
    fake = FakeArgoCD()
    (spec,) = docs_settings.connectors
    assert spec.type == "argocd" and spec.interval == 30
    hub = Hub(
        docs_settings.connectors,
        docs_settings.environments,
        clock=FixedClock(NOW),
        client_factory=lambda s: httpx.AsyncClient(transport=fake.transport()),
    )
    try:
        snap = await hub.refresh()
    finally:
        await hub.stop()
    assert snap.sources["argocd"].ok, snap.sources["argocd"].error
    assert snap.cell("shop", "prod").drift is not None
    assert fake.seen("GET", "/api/v1/applications")[0].params == {"projects": ["shop", "payments"]}


@pytest.fixture
def tui_settings(config_file: Path) -> config.Settings:
    config_file.write_text(CONFIG.format(url="https://argocd.example.com"))
    return config.load(str(config_file), env={"ARGOCD_TOKEN": TOKEN})


async def test_the_tui_drift_view_lists_argocd_items(tui_settings: config.Settings) -> None:
    fake = FakeArgoCD()
    settings = tui_settings
    app = CockpitApp(
        settings,
        clock=FixedClock(NOW),
        poll=False,
        client_factory=lambda s: httpx.AsyncClient(transport=fake.transport()),
    )
    app.animation_level = "none"
    async with app.run_test(size=(160, 40)) as pilot:
        assert "shop" in app.screen.query_one("#matrix", LiveTable).keys
        await pilot.press("5")
        reports = app.screen.query_one("#reports", LiveTable)
        assert reports.keys == ["batch/dev", "shop/prod", "reports/staging"]
        reports.move_cursor(row=1)
        await pilot.pause()
        assert app.screen.query_one("#items", LiveTable).keys == [str(i) for i in range(6)]
        screen = app.export_screenshot()  # what the operator sees
        for text in ("Deployment/shop/web", "spec.replicas", "ConfigMap/shop/legacy-banner"):
            assert text in screen
