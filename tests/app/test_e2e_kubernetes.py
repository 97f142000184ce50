"""End to end from the keyboard: a Kubernetes Deployment rolled back, as `kubectl rollout undo`.

The fake holds web at revision 9 with ReplicaSets of revisions 7 and 8. Each test drives
the TUI, confirms the dialog with a reason, and checks the JSON patch the fake received
(the target revision's pod template) and the audit records.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from cockpit.app import CockpitApp
from cockpit.audit import EventType
from screens.widgets import LiveTable
from tests.app.e2e_kit import (
    SIZE,
    action_records,
    connector_app,
    fill_and_confirm,
    open_dialog,
    select,
    select_cell,
    target_of,
    versions_of,
)
from tests.fixtures.kubernetes.fakeapi import FakeKubeAPI
from tests.fixtures.kubernetes.kit import DEPLOYMENTS, NOW, REPLICASETS, TOKEN, cluster

K8S = {
    "name": "k8s",
    "type": "kubernetes",
    "options": {
        "server": "https://kube.test:6443",
        "token": "env:KUBE_TOKEN",
        "namespaces": ["shop"],
        "environment": {"shop": "prod"},
    },
}
JSON_PATCH = "application/json-patch+json"


def kube_app(tmp_path: Path, fake: FakeKubeAPI) -> CockpitApp:
    return connector_app(
        tmp_path, [K8S], {"k8s": fake.transport}, now=NOW, env={"KUBE_TOKEN": TOKEN}
    )


def undo_patch(fake: FakeKubeAPI, replicaset: str) -> list[dict[str, Any]]:
    """The patch `kubectl rollout undo` sends for web to that ReplicaSet's revision."""
    rs = fake.get(REPLICASETS, "shop", replicaset)
    template = copy.deepcopy(rs["spec"]["template"])
    del template["metadata"]["labels"]["pod-template-hash"]
    kept = ("kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision")
    dep = fake.get(DEPLOYMENTS, "shop", "web")["metadata"]["annotations"]
    annotations = {k: dep[k] for k in kept}
    annotations["kubernetes.io/change-cause"] = rs["metadata"]["annotations"][
        "kubernetes.io/change-cause"
    ]
    return [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]


def sent_patches(fake: FakeKubeAPI) -> list[tuple[str, str, Any]]:
    return [(s.path, s.content_type, s.json) for s in fake.seen if s.method == "PATCH"]


async def test_kubernetes_rollback_from_the_overview_undoes_to_the_previous_revision(
    tmp_path: Path,
) -> None:
    fake = cluster()
    expected = undo_patch(fake, "web-6d8f9c7a5")  # revision 8, before the rollback moves it
    app = kube_app(tmp_path, fake)
    reason = "5xx since 2.4.7"
    async with app.run_test(size=SIZE) as pilot:
        await select_cell(pilot, app, "web", "prod")
        dialog = await open_dialog(pilot, app, "b")
        assert dialog.plan.action.remote_id == "8"
        await fill_and_confirm(pilot, app, reason, "web")
    assert sent_patches(fake) == [
        ("/apis/apps/v1/namespaces/shop/deployments/web", JSON_PATCH, expected)
    ]
    got = action_records(app, "rollback")
    assert set(got) == {EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED}
    done = got[EventType.ACTION_SUCCEEDED]
    assert done.reason == reason and versions_of(done) == ("2.4.7", "2.4.6")
    assert target_of(done) == ("web", "prod", "k8s", "shop/web")
    assert done.extra["result"] == "deployment shop/web rolled back to revision 8 (2.4.6)"


async def test_kubernetes_rollback_to_a_chosen_history_row_sends_that_revisions_template(
    tmp_path: Path,
) -> None:
    fake = cluster()
    expected = undo_patch(fake, "web-5c4d8f7b6")  # revision 7
    app = kube_app(tmp_path, fake)
    async with app.run_test(size=SIZE) as pilot:
        await select_cell(pilot, app, "web", "prod")
        await pilot.press("enter")
        await pilot.pause()
        history = app.screen.query_one("#history", LiveTable)
        await select(pilot, history, "2.4.5")
        dialog = await open_dialog(pilot, app, "b")
        assert dialog.plan.action.remote_id == "7"
        await fill_and_confirm(pilot, app, "2.4.6 leaks memory too", "web")
    assert sent_patches(fake) == [
        ("/apis/apps/v1/namespaces/shop/deployments/web", JSON_PATCH, expected)
    ]
    done = action_records(app, "rollback")[EventType.ACTION_SUCCEEDED]
    assert done.extra["result"] == "deployment shop/web rolled back to revision 7 (2.4.5)"
