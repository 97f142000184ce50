"""GitLab actions send exactly the documented requests; freezes become DST-correct blackouts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cockpit.actions import windows
from cockpit.errors import Rejected
from cockpit.model import Action, ActionKind
from connectors.gitlab.freeze import occurrence, window
from tests.fixtures.gitlab import fake as gl
from tests.fixtures.gitlab.fake import GitLabFake

SHOP = "/api/v4/projects/acme%2Fshop"
REASON = "CAB-2291: approved at the 09:30 change board"
BERLIN = ZoneInfo("Europe/Berlin")


def act(kind: ActionKind, **kw: Any) -> Action:
    return Action(
        **{"kind": kind, "service": "shop", "environment": "prod", "source": "gitlab", **kw}
    )


@pytest.mark.parametrize(
    ("kind", "status", "verb"),
    [(ActionKind.APPROVE, "approved", "approved"), (ActionKind.REJECT, "rejected", "rejected")],
)
async def test_deployment_review_posts_the_status_and_the_reason_as_comment(
    kind: ActionKind, status: str, verb: str
) -> None:
    fake = GitLabFake()
    async with gl.connector(fake) as c:
        await c.poll()
        result = await c.execute(
            act(
                kind,
                approval_id="gitlab:deployment:4201",
                remote_id="deployment:4201",
                reason=REASON,
            )
        )
    assert fake.writes() == [
        ("POST", f"{SHOP}/deployments/4201/approval", {"status": status, "comment": REASON})
    ]
    assert fake.requests[-1].headers["content-type"] == "application/json"
    assert result.ok and result.remote_id == "deployment:4201"
    assert result.message == f"{verb} deployment 4201 of acme/shop"


async def test_review_without_a_poll_finds_the_project_from_the_service() -> None:
    fake = GitLabFake()
    async with gl.connector(fake) as c:
        await c.execute(
            act(
                ActionKind.APPROVE,
                approval_id="gitlab:deployment:4201",
                reason=REASON,
                params=(("represented_as", "release-managers"),),
            )
        )
    assert fake.writes() == [
        (
            "POST",
            f"{SHOP}/deployments/4201/approval",
            {"status": "approved", "comment": REASON, "represented_as": "release-managers"},
        )
    ]


async def test_gitlab_refusing_an_approval_is_a_clear_rejection() -> None:
    fake = GitLabFake()
    fake.fail(
        "/approval", 400, {"message": "400 Bad request - You cannot approve your own deployment."}
    )
    async with gl.connector(fake) as c:
        with pytest.raises(Rejected, match="cannot approve your own deployment"):
            await c.execute(act(ActionKind.APPROVE, remote_id="deployment:4201", reason=REASON))


async def test_review_needs_a_deployment_id() -> None:
    async with gl.connector(GitLabFake()) as c:
        with pytest.raises(Rejected, match="needs the deployment"):
            await c.execute(act(ActionKind.APPROVE, remote_id="job:99172", reason=REASON))


async def test_promote_plays_the_named_manual_job() -> None:
    fake = GitLabFake()
    async with gl.connector(fake) as c:
        result = await c.execute(act(ActionKind.PROMOTE, remote_id="job:99172", reason=REASON))
    assert fake.writes() == [("POST", f"{SHOP}/jobs/99172/play", None)]
    assert result.remote_id == "job:99172"
    assert result.message == "played deploy_production (job 99172) of acme/shop: pending"


async def test_promote_without_a_job_id_finds_the_waiting_deploy_job() -> None:
    fake = GitLabFake()
    async with gl.connector(fake) as c:
        await c.poll()
        result = await c.execute(act(ActionKind.PROMOTE, version="a91957a8"))
        with pytest.raises(Rejected, match="no manual job waits to deploy shop to staging"):
            await c.execute(act(ActionKind.PROMOTE, environment="staging"))
        with pytest.raises(Rejected, match="shop 416d8ea1 to prod"):
            await c.execute(act(ActionKind.PROMOTE, version="416d8ea1"))
    assert fake.writes() == [("POST", f"{SHOP}/jobs/99172/play", None)]
    assert result.remote_id == "job:99172"


async def test_an_unplayable_job_is_rejected_with_gitlabs_words() -> None:
    fake = GitLabFake()
    fake.fail("/play", 400, {"message": "400 Bad request - Unplayable Job"})
    async with gl.connector(fake) as c:
        with pytest.raises(Rejected, match="Unplayable Job"):
            await c.execute(act(ActionKind.PROMOTE, remote_id="job:99172"))


@pytest.mark.parametrize(
    ("remote_id", "path", "answer"),
    [
        ("acme/shop#1874377", f"{SHOP}/pipelines/1874377/retry", "pipeline:1874377"),
        ("pipeline:1874377", f"{SHOP}/pipelines/1874377/retry", "pipeline:1874377"),
        ("job:99102", f"{SHOP}/jobs/99102/retry", "job:100102"),
    ],
)
async def test_rerun_retries_the_pipeline_or_the_job(
    remote_id: str, path: str, answer: str
) -> None:
    fake = GitLabFake()
    async with gl.connector(fake) as c:
        await c.poll()
        result = await c.execute(act(ActionKind.RERUN, remote_id=remote_id))
    assert fake.writes() == [("POST", path, None)]
    assert result.remote_id == answer


async def test_rerun_refuses_a_project_that_is_not_configured() -> None:
    fake = GitLabFake()
    async with gl.connector(fake) as c:
        with pytest.raises(Rejected, match="rerun needs a run id"):
            await c.execute(act(ActionKind.RERUN, remote_id="other/repo#12"))
    assert fake.writes() == []


# Deploy freezes --------------------------------------------------------------------------
FRIDAY_NIGHT = {
    "id": 1,
    "freeze_start": "0 23 * * 5",
    "freeze_end": "0 8 * * 1",
    "cron_timezone": "Europe/Berlin",
}


@pytest.mark.parametrize(
    ("now", "start", "end", "real_hours"),
    [
        # 29 March 2026: Berlin springs forward, the weekend has 56 real hours.
        (
            datetime(2026, 3, 27, 12, 0, tzinfo=UTC),
            datetime(2026, 3, 27, 23, tzinfo=BERLIN),
            datetime(2026, 3, 30, 8, tzinfo=BERLIN),
            56,
        ),
        # 25 October 2026: Berlin falls back, the weekend has 58 real hours.
        (
            datetime(2026, 10, 23, 12, 0, tzinfo=UTC),
            datetime(2026, 10, 23, 23, tzinfo=BERLIN),
            datetime(2026, 10, 26, 8, tzinfo=BERLIN),
            58,
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_freeze_across_a_dst_change_ends_at_the_end_crons_local_time(
    now: datetime, start: datetime, end: datetime, real_hours: int
) -> None:
    local_start, local_end = occurrence("0 23 * * 5", "0 8 * * 1", BERLIN, now)
    assert (local_start, local_end) == (start, end)
    assert (
        local_end.astimezone(UTC) - local_start.astimezone(UTC)
    ).total_seconds() == real_hours * 3600

    w = window("acme/shop", FRIDAY_NIGHT, now, "gitlab")
    assert (w.schedule, w.timezone, w.kind, w.environments) == (
        "0 23 * * 5",
        "Europe/Berlin",
        "deny",
        (),
    )
    assert w.duration_minutes == 57 * 60  # Friday 23:00 to Monday 08:00 on the wall clock
    # The policy's window arithmetic then closes and reopens exactly when GitLab does.
    before_end = end.astimezone(UTC) - timedelta(minutes=1)
    assert windows.occurrence(w, start.astimezone(UTC)) is not None
    assert windows.occurrence(w, before_end) is not None
    assert windows.occurrence(w, end.astimezone(UTC)) is None
    assert not windows.state([w], "prod", before_end).open


def test_a_freeze_in_force_is_the_occurrence_that_started_not_the_next() -> None:
    saturday = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)
    start, end = occurrence("0 23 * * 5", "0 8 * * 1", BERLIN, saturday)
    assert (start, end) == (
        datetime(2026, 3, 27, 23, tzinfo=BERLIN),
        datetime(2026, 3, 30, 8, tzinfo=BERLIN),
    )
    exactly_at_start = datetime(2026, 3, 27, 22, 0, tzinfo=UTC)  # 23:00 CET
    assert occurrence("0 23 * * 5", "0 8 * * 1", BERLIN, exactly_at_start)[0] == start
