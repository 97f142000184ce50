"""Flagger connector: the contract kit and Canary status mapped onto cockpit canaries."""

from __future__ import annotations

import httpx
import pytest

from cockpit.errors import Rejected
from cockpit.model import Action, ActionKind, CanaryPhase
from cockpit.testing import ConnectorContract
from connectors.flagger import PHASES, FlaggerConnector, progress
from tests.fixtures.kubernetes.kit import ENV, OPTIONS, cluster, connected


class TestFlaggerContract(ConnectorContract):
    connector_class = FlaggerConnector
    options = OPTIONS
    env = ENV

    def transport(self) -> httpx.MockTransport:
        return cluster().transport()


async def test_canaries_map_phase_weight_checks_and_conditions() -> None:
    async with connected(FlaggerConnector, cluster()) as f:
        canaries = {c.service: c for c in (await f.poll()).canaries}
    podinfo = canaries["podinfo"]
    assert (podinfo.phase, podinfo.weight, podinfo.step, podinfo.steps) == (
        CanaryPhase.PROGRESSING,
        30,
        3,
        5,
    )
    assert podinfo.message == (
        "Progressing; failed checks 1/5; New revision detected, progressing canary analysis."
    )
    assert (podinfo.baseline_version, podinfo.canary_version) == ("6c4b7a9d5", "5f7c9d8b6")
    assert podinfo.started_at.isoformat() == "2026-08-24T10:06:00+00:00"
    assert podinfo.environment == "prod" and podinfo.remote_id == "shop/podinfo"

    frontend = canaries["frontend"]  # stepWeights [5, 10, 25, 50], waiting for confirm-promotion
    assert (frontend.phase, frontend.step, frontend.steps, frontend.weight) == (
        CanaryPhase.PAUSED,
        4,
        4,
        50,
    )
    assert "Waiting for approval." in frontend.message

    backend = canaries["backend"]
    assert backend.phase is CanaryPhase.FAILED
    assert "failed checks 5/5" in backend.message and "scaled to zero" in backend.message

    abtest = canaries["abtest"]  # A/B testing counts iterations
    assert (abtest.step, abtest.steps, abtest.weight) == (4, 10, 0)
    assert canaries["worker"].phase is CanaryPhase.SUCCEEDED
    assert canaries["init"].phase is CanaryPhase.SUCCEEDED


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        ("Initializing", CanaryPhase.PROGRESSING),
        ("Initialized", CanaryPhase.SUCCEEDED),
        ("Waiting", CanaryPhase.PAUSED),
        ("Progressing", CanaryPhase.PROGRESSING),
        ("WaitingPromotion", CanaryPhase.PAUSED),
        ("Promoting", CanaryPhase.PROMOTED),
        ("Finalising", CanaryPhase.PROMOTED),
        ("Succeeded", CanaryPhase.SUCCEEDED),
        ("Failed", CanaryPhase.FAILED),
        ("Terminating", CanaryPhase.ABORTED),
        ("Terminated", CanaryPhase.ABORTED),
    ],
)
def test_every_flagger_phase_has_a_cockpit_phase(phase: str, expected: CanaryPhase) -> None:
    assert PHASES[phase] is expected


def test_progress_through_step_weights_max_weight_or_iterations() -> None:
    def canary(analysis: dict, **status: int) -> dict:
        return {"spec": {"analysis": analysis}, "status": status}

    assert progress(canary({"stepWeight": 10, "maxWeight": 50}, canaryWeight=20)) == (2, 5)
    assert progress(canary({"stepWeight": 20, "maxWeight": 50}, canaryWeight=50)) == (3, 3)
    assert progress(canary({"stepWeights": [1, 5, 10]}, canaryWeight=5)) == (2, 3)
    assert progress(canary({"iterations": 8}, iterations=3)) == (3, 8)
    assert progress(
        {"spec": {"canaryAnalysis": {"stepWeight": 5}}, "status": {"canaryWeight": 15}}
    ) == (3, 20)


async def test_flagger_takes_no_actions() -> None:
    async with connected(FlaggerConnector, cluster()) as f:
        with pytest.raises(Rejected):
            await f.execute(Action(ActionKind.PROMOTE, "podinfo", "prod"))
