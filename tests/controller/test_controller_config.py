"""`controller:` in config: loopback unless asked, timings that can fail over, file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit import config
from cockpit.controller.config import ControllerConfig, loopback, split_listen
from cockpit.errors import ConfigProblems


def _problems(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text("environments: [prod]\n" + body)
    with pytest.raises(ConfigProblems) as caught:
        config.load(str(path), env={})
    return [str(e) for e in caught.value.problems]


def test_the_defaults_listen_on_loopback_and_fail_over_within_15_seconds() -> None:
    cfg = ControllerConfig()
    assert split_listen(cfg.listen) == ("127.0.0.1", 9464)
    # A silent dead leader is found by TCP, then a standby's next try takes the lock.
    assert cfg.dead_peer + cfg.retry <= 15


def test_a_good_controller_block_is_kept_in_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "environments: [prod]\ncontroller:\n  listen: '[::1]:9000'\n  retry: 1s\n"
        "  heartbeat: 500ms\n  stale_after: 10s\n"
    )
    settings = config.load(str(path), env={})
    assert split_listen(settings.controller.listen) == ("::1", 9000)
    assert (settings.controller.retry, settings.controller.heartbeat) == (1.0, 0.5)


def test_a_remote_listen_address_needs_allow_remote(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "controller:\n  listen: 0.0.0.0:9464\n")
    assert problem.startswith(f"{tmp_path / 'config.yaml'}:3: controller.listen: ")
    assert "allow_remote: true" in problem
    path = tmp_path / "ok.yaml"
    path.write_text(
        "environments: [prod]\ncontroller:\n  listen: 0.0.0.0:9464\n  allow_remote: true\n"
    )
    assert config.load(str(path), env={}).controller.allow_remote


@pytest.mark.parametrize(
    ("block", "key", "words"),
    [
        ("listen: nowhere", "listen", "HOST:PORT"),
        ("listen: 127.0.0.1:http", "listen", "must be a number"),
        ("listen: 127.0.0.1:70000", "listen", "0-65535"),
        ("listen: ::1:9000", "listen", "brackets"),
        ("retry: 0", "retry", "more than zero"),
        ("stale_after: 1s", "stale_after", "longer than heartbeat"),
        ("lease: 5s", "lease", "unknown"),
    ],
)
def test_each_bad_controller_key_is_named_with_its_line(
    tmp_path: Path, block: str, key: str, words: str
) -> None:
    [problem] = _problems(tmp_path, f"controller:\n  {block}\n")
    assert f":3: controller.{key}" in problem
    assert words in problem


def test_only_loopback_hosts_count_as_local() -> None:
    assert all(loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.org"))
