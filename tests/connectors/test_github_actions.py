"""GitHub connector actions: environment reviews and re-runs, as the fake GitHub receives them."""

from __future__ import annotations

import pytest

from cockpit.clock import FixedClock
from cockpit.errors import Rejected
from cockpit.model import Action, ActionKind, Status
from tests.fixtures.github.fake import NOW, FakeGitHub, connected

SHOP_APPROVAL = "acme/shop/run:10512344871/env:161171787"
REASON = "Ship it - CAB-2291"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def review(kind: ActionKind, approval_id: str = SHOP_APPROVAL, **kw: str) -> Action:
    remote = approval_id.split("/", 2)[-1] if approval_id else ""
    fields = {"remote_id": remote, "reason": REASON, "actor": "release-lead", **kw}
    return Action(kind, "shop", "prod", source="github", approval_id=approval_id, **fields)


def posts(fake: FakeGitHub) -> list[tuple[str, object]]:
    return [(r.path, r.json) for r in fake.requests if r.method == "POST" and r.path != "/graphql"]


@pytest.mark.parametrize(
    ("kind", "state"), [(ActionKind.APPROVE, "approved"), (ActionKind.REJECT, "rejected")]
)
async def test_a_review_sends_exactly_the_documented_body(
    clock: FixedClock, kind: ActionKind, state: str
) -> None:
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        before = await connector.poll()
        assert SHOP_APPROVAL in {a.id for a in before.approvals}
        result = await connector.execute(review(kind))
        after = await connector.poll()
    assert posts(fake) == [
        (
            "/repos/acme/shop/actions/runs/10512344871/pending_deployments",
            {"environment_ids": [161171787], "state": state, "comment": REASON},
        )
    ]
    assert result.ok and result.remote_id == "run:10512344871/env:161171787"
    assert SHOP_APPROVAL not in {a.id for a in after.approvals}
    run = next(r for r in after.runs if r.id == "acme/shop#10512344871")
    if kind is ActionKind.APPROVE:
        assert run.status is Status.RUNNING
        assert result.message == (
            "approved acme/shop run 10512344871 for environment 161171787; deployment 1890000005"
        )
        prod = next(d for d in after.deployments if d.key == ("shop", "prod"))
        assert prod.remote_id == "1890000005" and prod.version == "7c1f0e9"
        assert [r.version for r in prod.history][:1] == ["v2.3.1"]
    else:
        assert run.status is Status.FAILED
        assert result.message == "rejected acme/shop run 10512344871 for environment 161171787"


async def test_the_remote_id_and_service_are_enough_to_review(clock: FixedClock) -> None:
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        action = review(
            ActionKind.APPROVE, approval_id="", remote_id="run:10512344871/env:161171787"
        )
        assert (await connector.execute(action)).ok
    assert posts(fake)[0][0] == "/repos/acme/shop/actions/runs/10512344871/pending_deployments"


async def test_a_run_no_longer_waiting_is_rejected_with_githubs_message(clock: FixedClock) -> None:
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        await connector.execute(review(ActionKind.APPROVE))
        with pytest.raises(Rejected) as err:
            await connector.execute(review(ActionKind.APPROVE))
    assert "-> 422: Validation Failed; The workflow run is not in a waiting state" in str(err.value)


async def test_a_token_that_is_not_a_reviewer_is_rejected_with_githubs_message(
    clock: FixedClock,
) -> None:
    fake = FakeGitHub()
    action = Action(
        ActionKind.APPROVE,
        "payments-api",
        "staging",
        source="github",
        approval_id="acme/payments/run:10512350500/env:170100202",
        remote_id="run:10512350500/env:170100202",
        reason="hotfix for INC-881",
    )
    async with connected(fake, clock) as connector:
        with pytest.raises(Rejected, match="is not allowed to review these environments"):
            await connector.execute(action)
    assert fake.repos["acme/payments"].pending[10512350500], "still waiting"


@pytest.mark.parametrize(
    ("action", "words"),
    [
        (review(ActionKind.APPROVE, reason="  "), "a reason is required"),
        (
            review(ActionKind.APPROVE, approval_id="evil/repo/run:1/env:2"),
            "not a watched repository",
        ),
        (review(ActionKind.REJECT, approval_id="", remote_id="garbage"), "cannot tell which run"),
        (Action(ActionKind.RERUN, "shop", "", remote_id="not-a-run"), "re-run needs the run id"),
        (Action(ActionKind.RERUN, "nobody", "", remote_id="123"), "no single repository"),
        (Action(ActionKind.PROMOTE, "shop", "prod", version="v2.4.0"), "cannot promote"),
    ],
)
async def test_unusable_actions_are_refused_before_anything_is_sent(
    clock: FixedClock, action: Action, words: str
) -> None:
    fake = FakeGitHub()
    async with connected(fake, clock) as connector:
        with pytest.raises(Rejected, match=words):
            await connector.execute(action)
    assert fake.requests == []


@pytest.mark.parametrize("remote_id", ["acme/shop#10511987345", "10511987345", "run:10511987345"])
async def test_rerun_asks_github_to_rerun_the_failed_jobs(
    clock: FixedClock, remote_id: str
) -> None:
    fake = FakeGitHub()
    action = Action(
        ActionKind.RERUN, "shop", "", source="github", remote_id=remote_id, reason="flaky"
    )
    async with connected(fake, clock) as connector:
        result = await connector.execute(action)
        run = next(r for r in (await connector.poll()).runs if r.id == "acme/shop#10511987345")
    assert posts(fake) == [("/repos/acme/shop/actions/runs/10511987345/rerun-failed-jobs", None)]
    assert result.ok and result.remote_id == "run:10511987345"
    assert run.status is Status.QUEUED, "the new attempt is not served from the finished-run cache"
