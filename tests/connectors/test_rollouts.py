"""Argo Rollouts connector: the contract kit, Rollouts as canaries, and the exact PATCHes
of `kubectl argo rollouts promote / promote --full / abort / retry / pause / undo`."""

from __future__ import annotations

import copy
import math
from typing import Any

import httpx
import pytest

from cockpit.errors import Rejected
from cockpit.model import Action, ActionKind, CanaryPhase, Health, Status
from cockpit.testing import ConnectorContract
from connectors.rollouts import ArgoRolloutsConnector, patches
from connectors.rollouts.canary import REVISION, measurement_value, phase_of, set_weight
from tests.fixtures.kubernetes.fakeapi import FakeKubeAPI
from tests.fixtures.kubernetes.kit import ENV, OPTIONS, ROLLOUTS, cluster, connected

MERGE = "application/merge-patch+json"
BASE = "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts"


class TestArgoRolloutsContract(ConnectorContract):
    connector_class = ArgoRolloutsConnector
    options = OPTIONS
    env = ENV

    def transport(self) -> httpx.MockTransport:
        return cluster().transport()


async def test_rollouts_are_canaries_with_steps_weights_versions_and_analysis() -> None:
    async with connected(ArgoRolloutsConnector, cluster()) as r:
        obs = await r.poll()
    canaries = {c.service: c for c in obs.canaries}
    assert set(canaries) == {"payments", "api-gateway", "ledger", "catalog"}

    pay = canaries["payments"]
    assert (pay.environment, pay.baseline_version, pay.canary_version) == ("prod", "3.2.0", "3.3.0")
    assert (pay.step, pay.steps, pay.weight, pay.phase) == (2, 7, 20, CanaryPhase.PAUSED)
    assert "paused: CanaryPauseStep" in pay.message
    assert "stable 5c4d8f7b6 → canary 6b9f7c5d8" in pay.message
    assert pay.started_at.isoformat() == "2026-08-24T09:38:20+00:00"  # the canary ReplicaSet
    assert pay.remote_id == "shop/payments" and pay.metrics == ()

    gw = canaries["api-gateway"]
    assert (gw.step, gw.weight, gw.phase) == (5, 45, CanaryPhase.PROGRESSING)  # actual weight
    assert "set weight 50%, actual 45%" in gw.message
    assert (
        "step analysis Running; success-rate: 3/3 ok, last [0.997]; "
        "latency-p99: 2/3 ok, 1 failed, last [0.238]"
    ) in gw.message

    ledger = canaries["ledger"]
    assert (ledger.phase, ledger.weight) == (CanaryPhase.ABORTED, 0)
    assert ledger.message.startswith("RolloutAborted: Rollout aborted update to revision 4")
    assert "step analysis Failed; success-rate: 1/4 ok, 3 failed" in ledger.message

    done = canaries["catalog"]
    assert (done.phase, done.step, done.steps, done.weight) == (CanaryPhase.SUCCEEDED, 7, 7, 100)
    assert done.baseline_version == done.canary_version == "1.12.3"


async def test_a_rollout_reports_what_runs_as_a_deployment_with_its_revision_history() -> None:
    """A service deployed only by a Rollout still has a version: the stable ReplicaSet's."""
    fake = cluster()
    older = copy.deepcopy(fake.get(("apis/apps/v1", "replicasets"), "shop", "catalog-85f6c7d9b8"))
    older["metadata"].update(name="catalog-7a6b5c4d3", annotations={REVISION: "5"})
    older["metadata"]["labels"]["rollouts-pod-template-hash"] = "7a6b5c4d3"
    older["spec"]["template"]["spec"]["containers"][0]["image"] = "reg.example/catalog:1.12.2"
    fake.put(("apis/apps/v1", "replicasets"), older, quiet=True)
    async with connected(ArgoRolloutsConnector, fake) as r:
        obs = await r.poll()
    deps = {d.service: d for d in obs.deployments}
    assert set(deps) == {"payments", "api-gateway", "ledger", "catalog"}
    pay = deps["payments"]
    assert (pay.environment, pay.version, pay.health, pay.status) == (
        "prod",
        "3.2.0",
        Health.SUSPENDED,
        Status.WAITING,
    )
    assert pay.remote_id == "shop/payments" and pay.source == "k8s"
    assert pay.deployed_at.isoformat() == "2026-08-12T10:00:00+00:00"  # the stable ReplicaSet
    ledger = deps["ledger"]
    assert (ledger.version, ledger.health, ledger.status) == (
        "1.9.8",
        Health.DEGRADED,
        Status.FAILED,
    )
    assert ledger.message.startswith("RolloutAborted")
    catalog = deps["catalog"]
    assert (catalog.version, catalog.health, catalog.status) == (
        "1.12.3",
        Health.HEALTHY,
        Status.SUCCEEDED,
    )
    assert [(h.version, h.id) for h in catalog.history] == [("1.12.2", "5")]
    assert deps["api-gateway"].health is Health.PROGRESSING


async def test_rollback_to_a_history_row_undoes_to_that_revision_not_the_newest_of_its_tag() -> (
    None
):
    fake = cluster()
    # Revision 3 ran the same image as revision 4, with another setting.
    rs3 = copy.deepcopy(fake.get(("apis/apps/v1", "replicasets"), "shop", "payments-5c4d8f7b6"))
    rs3["metadata"].update(name="payments-4b3c2d1e0", annotations={REVISION: "3"})
    rs3["metadata"]["labels"]["rollouts-pod-template-hash"] = "4b3c2d1e0"
    rs3["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"] = "4b3c2d1e0"
    rs3["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "POOL", "value": "8"}]
    fake.put(("apis/apps/v1", "replicasets"), rs3, quiet=True)
    action = Action(ActionKind.ROLLBACK, "payments", "prod", version="3.2.0", remote_id="3")
    ((path, _, body),) = await run(fake, action)
    assert path == f"{BASE}/payments"
    assert body[0]["value"]["spec"]["containers"][0]["env"] == [{"name": "POOL", "value": "8"}]


async def test_analysis_measurements_can_be_charted_as_canary_series() -> None:
    async with connected(ArgoRolloutsConnector, cluster(), chart_analysis=True) as r:
        canaries = {c.service: c for c in await r.canaries()}
    series = {m.name: m for m in canaries["api-gateway"].metrics}
    assert series["success-rate"].canary == (0.998, 0.996, 0.997)
    assert all(math.isnan(v) for v in series["success-rate"].baseline)
    assert series["success-rate"].direction == "decrease"  # success needs >=: falling is bad
    assert series["latency-p99"].direction == "increase"
    assert len(series["latency-p99"].times) == 3


@pytest.mark.parametrize(
    ("raw", "value"), [("[0.998]", 0.998), ("12", 12.0), ("[1.5e-3, 7]", 0.0015)]
)
def test_measurement_values(raw: str, value: float) -> None:
    assert measurement_value(raw) == value
    assert math.isnan(measurement_value("[]"))


@pytest.mark.parametrize(
    ("status", "spec", "phase"),
    [
        ({"phase": "Paused", "abort": True}, {}, CanaryPhase.ABORTED),
        ({"phase": "Degraded"}, {}, CanaryPhase.FAILED),
        ({"phase": "Progressing"}, {"paused": True}, CanaryPhase.PAUSED),
        (
            {"phase": "Progressing", "promoteFull": True, "stableRS": "a", "currentPodHash": "b"},
            {},
            CanaryPhase.PROMOTED,
        ),
        ({"phase": "Healthy", "stableRS": "a", "currentPodHash": "a"}, {}, CanaryPhase.SUCCEEDED),
        ({"phase": "Progressing"}, {}, CanaryPhase.PROGRESSING),
    ],
)
def test_phases(status: dict[str, Any], spec: dict[str, Any], phase: CanaryPhase) -> None:
    assert phase_of({"spec": spec, "status": status}) is phase


def test_set_weight_is_the_last_set_weight_up_to_the_current_step() -> None:
    steps = [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]
    ro: dict[str, Any] = {
        "spec": {"strategy": {"canary": {"steps": steps}}},
        "status": {"stableRS": "a", "currentPodHash": "b"},
    }
    for index, weight in ((0, 20), (1, 20), (2, 50), (3, 50), (4, 100)):
        ro["status"]["currentStepIndex"] = index
        assert set_weight(ro) == weight


def act(kind: ActionKind, service: str = "payments", **params: str) -> Action:
    return Action(kind, service, "prod", source="k8s", reason="go", params=tuple(params.items()))


def sent(fake: FakeKubeAPI) -> list[tuple[str, str, Any]]:
    return [(s.path, s.content_type, s.json) for s in fake.seen if s.method == "PATCH"]


async def run(fake: FakeKubeAPI, action: Action) -> list[tuple[str, str, Any]]:
    async with connected(ArgoRolloutsConnector, fake) as r:
        result = await r.execute(action)
    assert result.ok, result.message
    return sent(fake)


def tweak(
    fake: FakeKubeAPI,
    name: str,
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
) -> None:
    obj = copy.deepcopy(fake.get(ROLLOUTS, "shop", name))
    obj["spec"].update(spec or {})
    obj["status"].update(status or {})
    fake.put(ROLLOUTS, obj, quiet=True)


async def test_promote_at_a_pause_step_clears_the_pause_conditions() -> None:
    assert await run(cluster(), act(ActionKind.PROMOTE)) == [
        (f"{BASE}/payments/status", MERGE, {"status": {"pauseConditions": None}})
    ]


async def test_promote_of_a_manually_paused_rollout_unpauses_after_the_status_patch() -> None:
    fake = cluster()
    tweak(fake, "payments", spec={"paused": True})
    assert await run(fake, act(ActionKind.PROMOTE)) == [
        (f"{BASE}/payments/status", MERGE, {"status": {"pauseConditions": None}}),
        (f"{BASE}/payments", MERGE, {"spec": {"paused": False}}),
    ]


async def test_promote_during_analysis_moves_to_the_next_step() -> None:
    assert await run(cluster(), act(ActionKind.PROMOTE, "api-gateway")) == [
        (
            f"{BASE}/api-gateway/status",
            MERGE,
            {"status": {"pauseConditions": None, "currentStepIndex": 5}},
        )
    ]


async def test_promote_after_inconclusive_analysis_also_lifts_the_controller_pause() -> None:
    fake = cluster()
    tweak(
        fake,
        "api-gateway",
        status={
            "pauseConditions": [
                {"reason": "InconclusiveAnalysisRun", "startTime": "2026-08-24T10:00:00Z"}
            ],
            "controllerPause": True,
            "canary": {
                "currentStepAnalysisRunStatus": {
                    "name": "api-gateway-7f9d8c6b5-9-4",
                    "status": "Inconclusive",
                }
            },
        },
    )
    assert await run(fake, act(ActionKind.PROMOTE, "api-gateway")) == [
        (
            f"{BASE}/api-gateway/status",
            MERGE,
            {"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 5}},
        )
    ]


async def test_promote_full() -> None:
    assert await run(cluster(), act(ActionKind.PROMOTE, full="true")) == [
        (f"{BASE}/payments/status", MERGE, {"status": {"promoteFull": True}})
    ]


async def test_promote_full_of_a_finished_rollout_sends_nothing() -> None:
    assert await run(cluster(), act(ActionKind.PROMOTE, "catalog", full="true")) == []


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (ActionKind.ABORT, {"status": {"abort": True}}),
        (ActionKind.RETRY, {"status": {"abort": False}}),
    ],
)
async def test_abort_and_retry_patch_the_status_subresource(
    kind: ActionKind, body: dict[str, Any]
) -> None:
    assert await run(cluster(), act(kind, "ledger")) == [(f"{BASE}/ledger/status", MERGE, body)]


async def test_pause_sets_spec_paused_even_at_a_pause_step() -> None:
    assert await run(cluster(), act(ActionKind.PAUSE)) == [
        (f"{BASE}/payments", MERGE, {"spec": {"paused": True}})
    ]


async def test_resume_lifts_the_operators_pause_and_the_steps_and_says_which() -> None:
    fake = cluster()
    tweak(fake, "payments", spec={"paused": True})
    async with connected(ArgoRolloutsConnector, fake) as r:
        result = await r.execute(act(ActionKind.RESUME))
    assert result.message == (
        "rollout shop/payments resumed: lifted the operator's pause and the CanaryPauseStep pause"
    )
    assert sent(fake) == [
        (f"{BASE}/payments/status", MERGE, {"status": {"pauseConditions": None}}),
        (f"{BASE}/payments", MERGE, {"spec": {"paused": False}}),
    ]


async def test_resume_of_a_rollout_that_is_not_paused_is_refused() -> None:
    fake = cluster()
    async with connected(ArgoRolloutsConnector, fake) as r:
        with pytest.raises(Rejected, match="not paused: nothing to resume"):
            await r.execute(act(ActionKind.RESUME, "api-gateway"))
    assert sent(fake) == []


@pytest.mark.parametrize(
    ("action", "fallback"),
    [
        (act(ActionKind.ABORT), {"status": {"abort": True}}),
        (act(ActionKind.PROMOTE), {"spec": {"paused": False}, "status": {"pauseConditions": None}}),
        (
            act(ActionKind.PROMOTE, "api-gateway"),
            {"spec": {"paused": False}, "status": {"pauseConditions": None, "currentStepIndex": 5}},
        ),
        (
            act(ActionKind.PROMOTE, full="true"),
            {"spec": {"paused": False}, "status": {"promoteFull": True}},
        ),
    ],
)
async def test_without_a_status_subresource_the_unified_patch_goes_to_the_rollout(
    action: Action, fallback: dict[str, Any]
) -> None:
    fake = cluster(status_subresource=False)
    calls = await run(fake, action)
    status_path = f"{BASE}/{action.service}/status"
    assert calls == [
        (status_path, MERGE, calls[0][2]),
        (f"{BASE}/{action.service}", MERGE, fallback),
    ]
    assert [s.query for s in fake.seen if s.method == "PATCH"] == [{}, {}]


async def test_undo_puts_the_previous_template_back_with_a_json_patch() -> None:
    fake = cluster()
    calls = await run(fake, act(ActionKind.ROLLBACK))
    stable = copy.deepcopy(fake.get(("apis/apps/v1", "replicasets"), "shop", "payments-5c4d8f7b6"))
    template = stable["spec"]["template"]
    del template["metadata"]["labels"]["rollouts-pod-template-hash"]
    assert calls == [
        (
            f"{BASE}/payments",
            "application/json-patch+json",
            [{"op": "replace", "path": "/spec/template", "value": template}],
        )
    ]
    listed = [
        s
        for s in fake.seen
        if s.path.endswith("/replicasets") and "watch" not in s.query and "limit" not in s.query
    ]
    assert listed[-1].query == {"labelSelector": "app.kubernetes.io/name=payments"}


async def test_undo_to_the_current_revision_is_skipped() -> None:
    fake = cluster()
    async with connected(ArgoRolloutsConnector, fake) as r:
        result = await r.execute(Action(ActionKind.ROLLBACK, "payments", "prod", version="5"))
    assert result.ok and result.message.startswith("skipped rollback")
    assert sent(fake) == []


async def test_actions_on_unknown_rollouts_are_rejected_before_any_patch() -> None:
    fake = cluster()
    async with connected(ArgoRolloutsConnector, fake) as r:
        with pytest.raises(Rejected, match="no rollouts for nope in prod"):
            await r.execute(Action(ActionKind.ABORT, "nope", "prod"))
    assert sent(fake) == []


def test_plans_are_pure_data() -> None:
    assert patches.pause() == patches.Plan(spec={"spec": {"paused": True}})
    assert patches.abort().status == {"status": {"abort": True}}
