"""Deploy freeze periods (two crons and a time zone) -> the policy's blackout windows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from cockpit.model import ActionKind, ChangeWindow
from connectors.gitlab.mapping import Json


def occurrence(
    start_cron: str, end_cron: str, zone: ZoneInfo, now: datetime
) -> tuple[datetime, datetime]:
    """The freeze in force at `now`, else the next one, as local (start, end).

    Frozen when the latest start fired after the latest end, both read in the period's
    zone (reference §2.8). A second past `now` lets a start firing exactly now count.
    """
    local = now.astimezone(zone)
    probe = local + timedelta(seconds=1)
    last_start = croniter(start_cron, probe).get_prev(datetime)
    last_end = croniter(end_cron, probe).get_prev(datetime)
    if last_start > last_end:
        start = last_start
    else:
        start = croniter(start_cron, local).get_next(datetime)
    end = croniter(end_cron, start).get_next(datetime)
    return start, end


def wall_minutes(start: datetime, end: datetime) -> int:
    """Minutes between two local times as the clock on the wall shows them.

    The policy adds a window's duration to each occurrence's local start, so the wall
    span ("Friday 23:00 to Monday 08:00" is 57 hours) ends every occurrence at the end
    cron's local time, also in the weeks where a DST change makes it 56 or 58 real hours.
    """
    naive = end.replace(tzinfo=None) - start.replace(tzinfo=None)
    return max(1, round(naive.total_seconds() / 60))


def window(project: str, period: Json, now: datetime, source: str) -> ChangeWindow:
    """One freeze period as a deny window over every environment, for every change but a
    CI re-run."""
    start_cron, end_cron = str(period["freeze_start"]), str(period["freeze_end"])
    zone_name = str(period.get("cron_timezone") or "UTC")
    for cron in (start_cron, end_cron):
        if not croniter.is_valid(cron):
            raise ValueError(f"freeze period {period.get('id')} has an unreadable cron {cron!r}")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"freeze period {period.get('id')} has an unknown time zone {zone_name!r}"
        ) from None
    start, end = occurrence(start_cron, end_cron, zone, now)
    return ChangeWindow(
        name=f"GitLab deploy freeze {project} #{period['id']}",
        schedule=start_cron,
        duration_minutes=wall_minutes(start, end),
        timezone=zone_name,
        kind="deny",
        environments=(),
        source=source,
        # GitLab freezes deployments (deploy jobs read CI_DEPLOY_FREEZE), not pipelines.
        exempt=(ActionKind.RERUN.value,),
    )
