"""`retention:` in config: every problem named by file, line and key; calendar ages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit import config
from cockpit.errors import ConfigError
from cockpit.retention_config import Age, archive_dir, parse_age


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "cockpit.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        config.load(str(path), env={})
    return [str(p) for p in info.value.problems]


def test_a_good_retention_block_is_kept_in_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.yaml"
    path.write_text("retention:\n  keep: 7y\n  seal_every: 90d\n  archive_dir: /srv/archive\n")
    settings = config.load(str(path), env={})
    assert (settings.retention.keep, settings.retention.seal_every) == ("7y", "90d")
    assert not settings.retention.unsigned_purge  # the fail-closed default
    path.write_text("retention:\n  seal_every: 100000\n")
    assert config.load(str(path), env={}).retention.seal_every == 100000


@pytest.mark.parametrize(
    ("block", "why"),
    [
        ("keep: 12h", "keep must be at least 1d"),
        ("keep: 7 years", "expected an age like 7y"),
        ("keep: 0d", "more than zero"),
        ("keep: 30", "expected an age like 7y"),
        ("seal_every: 0", "at least 1"),
        ("seal_every: soon", "(or a record count)"),
        ("archive_dir: ''", "archive_dir is empty"),
        ("unsigned_purge: maybe", "expected"),
        ("kepp: 7y", "did you mean 'keep'"),
    ],
)
def test_nonsense_is_refused_naming_the_key(tmp_path: Path, block: str, why: str) -> None:
    found = problems(tmp_path, f"environments: [prod]\nretention:\n  {block}\n")
    assert len(found) == 1 and why in found[0], found
    assert "line 3" in found[0] or ":3" in found[0], found


def test_years_are_calendar_years() -> None:
    leap = datetime(2024, 2, 29, 12, tzinfo=UTC)
    assert parse_age("1y").before(leap) == datetime(2023, 2, 28, 12, tzinfo=UTC)
    assert parse_age("7y").before(leap) == datetime(2017, 2, 28, 12, tzinfo=UTC)
    assert parse_age("2w") == Age(hours=14 * 24)
    assert parse_age("90d").before(leap) == datetime(2023, 12, 1, 12, tzinfo=UTC)


def test_the_archive_lives_beside_the_log_by_default(tmp_path: Path) -> None:
    log = tmp_path / "data" / "audit.sqlite3"
    assert archive_dir(None, str(log)) == tmp_path / "data" / "audit-archive"
