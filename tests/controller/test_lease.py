"""One leader per team store: the advisory lock, the lease row, stepping down and taking over."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from cockpit.connect.options import Duration
from cockpit.controller import lease
from cockpit.controller.config import ControllerConfig
from cockpit.controller.lease import Claim, LeaseLost, read_lease
from cockpit.team.store_config import StoreConfig
from tests.controller.store_kit import login, prepare
from tests.pgserver import PostgresServer

FAST = ControllerConfig(retry=Duration(0.2))


def _claim(url: str, pid: int, cfg: ControllerConfig = FAST) -> Claim:
    return Claim(StoreConfig(url=url), cfg, host=f"host-{pid}", pid=pid, version="t", conninfo=url)


def _read(url: str) -> lease.LeaseInfo | None:
    with psycopg.connect(url) as conn:
        return read_lease(conn)


async def test_one_claim_leads_and_a_second_waits_until_it_steps_down(pg_url: str) -> None:
    prepare(pg_url)
    first, second = _claim(pg_url, 1), _claim(pg_url, 2)
    assert await first.try_once()
    assert not await second.try_once()
    info = _read(pg_url)
    assert info is not None and (info.host, info.pid, info.ended) == ("host-1", 1, None)
    assert info.live(15)
    await first.beat()
    await first.release()
    stepped_down = _read(pg_url)
    assert stepped_down is not None and stepped_down.ended is not None
    assert not stepped_down.live(15)  # a stopped controller is nobody's leader
    previous = await asyncio.wait_for(second.acquire(), 5)
    assert previous is not None and previous.pid == 1  # whom it took over from
    now = _read(pg_url)
    assert now is not None and (now.pid, now.ended) == (2, None)
    await second.release()


async def test_a_dead_leaders_session_lets_a_standby_take_over(
    pg_url: str,
) -> None:
    prepare(pg_url)
    first, second = _claim(pg_url, 1), _claim(pg_url, 2)
    assert await first.try_once()
    waiting = asyncio.create_task(second.acquire())
    await asyncio.sleep(0)
    assert not waiting.done()
    # The server ends the leader's session, as when its process died: the lock goes with it.
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'cockpit-controller' AND pid IN"
            " (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)"
        )
    previous = await asyncio.wait_for(waiting, 5)
    assert previous is not None and previous.pid == 1 and previous.ended is None
    with pytest.raises(LeaseLost):
        await first.beat()  # the old leader learns it no longer leads
    await second.release()


async def test_a_lease_overwritten_by_another_is_lost(pg_url: str) -> None:
    prepare(pg_url)
    claim = _claim(pg_url, 1)
    assert await claim.try_once()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("UPDATE cockpit.controller_lease SET pid = 99")
    with pytest.raises(LeaseLost, match="another controller"):
        await claim.beat()


def test_without_a_lease_table_there_is_no_controller(pg_url: str) -> None:
    assert _read(pg_url) is None


def test_operators_read_the_lease_and_only_the_controller_role_writes_it(
    pg_server: PostgresServer, pg_url: str
) -> None:
    prepare(pg_url)
    controller = login(pg_server, "cockpit_controller", pg_url)
    operator = login(pg_server, "cockpit_writer", pg_url)

    async def lead() -> None:
        claim = _claim(controller, 7)
        assert await claim.try_once()
        await claim.beat()
        await claim.release()

    asyncio.run(lead())
    info = _read(operator)
    assert info is not None and info.pid == 7
    with psycopg.connect(operator) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE cockpit.controller_lease SET pid = 1")


def test_the_lock_session_detects_a_dead_peer_within_dead_peer_seconds() -> None:
    opts = lease.keepalive_options(10)
    detect = opts["keepalives_idle"] + opts["keepalives_interval"] * opts["keepalives_count"]
    assert detect <= 10 + 2 and opts["tcp_user_timeout"] == 10_000
    assert "SET tcp_user_timeout = 10000" in lease.server_keepalive_statements(10)
