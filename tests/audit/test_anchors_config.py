"""`checkpoints:` in config: every key checked, each problem named by file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit import config
from cockpit.anchors_config import CheckpointsConfig
from cockpit.audit.anchors import DirectorySink, GitSink, open_sink
from cockpit.errors import ConfigError


def problems(tmp_path: Path, text: str, **load: bool) -> list[str]:
    path = tmp_path / "cockpit.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        config.load(str(path), env={}, **load)
    return [str(p) for p in info.value.problems]


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "controller_key"
    path.write_text("not really a key, but readable\n")
    return path


def test_a_good_checkpoints_block_is_kept_and_opens_its_sink(tmp_path: Path, key: Path) -> None:
    path = tmp_path / "cockpit.yaml"
    path.write_text(
        f"checkpoints:\n  dir: {tmp_path}/worm\n  every_records: 500\n  every_minutes: 2\n"
        f"  key: {key}\n  allowed_signers: {key}\n  principal: controller@corp\n"
    )
    cp = config.load(str(path), env={}).checkpoints
    assert (cp.every_records, cp.every_minutes, cp.principal) == (500, 2, "controller@corp")
    assert isinstance(open_sink(cp), DirectorySink)
    path.write_text(f"checkpoints:\n  git: {tmp_path}/anchors\n  push: true\n  key: {key}\n")
    git = config.load(str(path), env={}).checkpoints
    sink = open_sink(git)
    assert isinstance(sink, GitSink) and sink.push
    assert (git.every_records, git.every_minutes) == (1000, 5)  # the documented defaults


def test_no_section_means_no_anchoring(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.yaml"
    path.write_text("environments: [prod]\n")
    assert config.load(str(path), env={}).checkpoints == CheckpointsConfig()
    assert not CheckpointsConfig().enabled


@pytest.mark.parametrize(
    ("block", "why", "line"),
    [
        ("dir: /w\n  git: /g\n  key: {key}", "either dir or git, not both", 4),
        ("every_records: 10\n  key: {key}", "need a sink: dir", 2),
        ("dir: worm\n  key: {key}", "must be an absolute path", 3),
        ("dir: /w\n  push: true\n  key: {key}", "push applies to a git sink only", 4),
        ("dir: /w\n  every_records: 0\n  key: {key}", "every_records must be at least 1", 4),
        ("dir: /w\n  every_minutes: 0\n  key: {key}", "every_minutes must be at least 1", 4),
        ("dir: /w\n  every_minutes: soon\n  key: {key}", "expected", 4),
        ("dir: /w", "key names the SSH key", 2),
        ("dir: /w\n  key: /no/such/key", "cannot read '/no/such/key'", 4),
        ("dir: /w\n  key: {key}\n  allowed_signers: /nope", "cannot read '/nope'", 5),
        ("dir: /w\n  key: {key}\n  principal: ''", "principal is a name", 5),
        ("dir: /w\n  key: {key}\n  evry_records: 3", "did you mean 'every_records'", 5),
    ],
)
def test_nonsense_is_refused_naming_the_key_and_line(
    tmp_path: Path, key: Path, block: str, why: str, line: int
) -> None:
    found = problems(
        tmp_path, "environments: [prod]\ncheckpoints:\n  " + block.format(key=key) + "\n"
    )
    assert len(found) == 1 and why in found[0], found
    assert f":{line}:" in found[0] or f"line {line}" in found[0], found
    assert "checkpoints." in found[0], found


def test_an_unreadable_key_is_not_checked_where_secrets_are_not_read(tmp_path: Path) -> None:
    """An auditor's `audit verify` reads the team's config without the controller's key."""
    path = tmp_path / "cockpit.yaml"
    path.write_text("checkpoints:\n  dir: /w\n  key: /no/such/key\n")
    assert config.load(str(path), env={}, resolve_secrets=False).checkpoints.key == "/no/such/key"
