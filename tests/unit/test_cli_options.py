"""The command line acts on exactly what the operator named, wherever an option stands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from cockpit.cli import parser
from tests.cli import cockpit

# The shared options, a value for each, and what that value must parse to.
SHARED = {
    "--config": (["-c", "given.yaml"], "config", "given.yaml"),
    "--seed": (["--seed", "11"], "seed", 11),
    "--demo-scale": (["--demo-scale", "5"], "demo_scale", 5),
    "--read-only": (["--read-only"], "read_only", True),
}

# Every command that takes a shared option, with the arguments it needs to parse.
COMMANDS = {
    ("status",): [],
    ("config", "check"): [],
    ("config", "path"): [],
    **{
        (name,): ["payments", "prod", "--reason", "because of reasons"]
        for name in ("promote", "rollback", "pause", "resume", "abort", "sync", "restart", "retry")
    },
    **{(name,): ["demo:payments#282", "--reason", "because"] for name in ("approve", "reject")},
    ("rerun",): ["demo:payments#282", "--reason", "because"],
    ("silence",): ["web", "prod", "--alert", "HighErrorRate", "--duration", "2h", "--reason", "x"],
    ("unsilence",): ["web", "prod", "--alert", "HighErrorRate", "--reason", "because"],
    **{("audit", name): [] for name in ("verify", "checkpoint", "show", "tail", "report")},
    ("audit", "export"): ["--format", "csv"],
    ("audit", "follow-up"): ["12", "--ticket", "CHG-1"],
    ("audit", "seal"): [],
    ("audit", "purge"): ["--before", "2600d", "--reason", "past retention"],
    ("audit", "copy"): ["--from", "personal.sqlite3"],
    ("store", "init"): [],
    ("incident", "open"): ["checkout 5xx"],
    ("incident", "close"): [],
    ("incident", "list"): [],
    ("incident", "timeline"): [],
    ("policy", "push"): ["team-policy.yaml"],
    **{("policy", name): [] for name in ("show", "diff", "history")},
    ("controller",): [],
}


def _leaves(p: argparse.ArgumentParser, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """(command path, option strings) of every leaf subcommand of `p`."""
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, {s for a in p._actions for s in a.option_strings}
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


def _cases() -> list[tuple[tuple[str, ...], str]]:
    return [
        (command, option)
        for command, options in _leaves(parser())
        for option in SHARED
        if option in options
    ]


def test_every_command_taking_a_shared_option_is_covered() -> None:
    assert {command for command, _ in _cases()} == set(COMMANDS)


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize(
    ("command", "option"), _cases(), ids=lambda v: " ".join(v) if isinstance(v, tuple) else v
)
def test_a_shared_option_means_the_same_before_or_after_the_command(
    command: tuple[str, ...], option: str, position: str
) -> None:
    given, dest, expected = SHARED[option]
    rest = [*command, *COMMANDS[command]]
    argv = [*given, *rest] if position == "before" else [*rest, *given]
    assert getattr(parser().parse_args(argv), dest) == expected


def test_shared_options_default_the_same_for_every_command() -> None:
    for command, rest in COMMANDS.items():
        args = parser().parse_args([*command, *rest])
        assert getattr(args, "config", None) is None, command
        if command[0] != "audit":
            assert (args.seed, args.demo_scale, args.read_only) == (7, None, False), command


def _demo_config(tmp_path: Path) -> Path:
    """A config naming one demo connector with its own seed: not the built-in demo."""
    config = tmp_path / "fleet.yaml"
    config.write_text(
        f"connectors:\n  - name: lab\n    type: demo\n    options: {{seed: 7, services: 12}}\n"
        f"audit:\n  path: {tmp_path / 'audit.sqlite3'}\n"
    )
    return config


def test_config_before_status_reports_that_config(tmp_path: Path) -> None:
    config = _demo_config(tmp_path)
    out = cockpit("-c", str(config), "status", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["config"] == str(config)
    assert [c["name"] for c in data["connectors"]] == ["lab"]


def test_config_before_an_action_acts_on_that_config(tmp_path: Path) -> None:
    config = _demo_config(tmp_path)
    out = cockpit(
        "-c",
        str(config),
        "rollback",
        "payments",
        "prod",
        "--reason",
        "5xx since 2.7.12",
        "--confirm",
        "payments",
        "--yes",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    # The config's own audit log holds the record: the built-in demo's was never touched.
    assert (tmp_path / "audit.sqlite3").exists()


def test_read_only_before_an_action_refuses_it(tmp_path: Path) -> None:
    out = cockpit(
        "--read-only",
        "rollback",
        "payments",
        "prod",
        "--reason",
        "5xx since 2.7.12",
        "--confirm",
        "payments",
        "--yes",
        cwd=tmp_path,
    )
    assert out.returncode == 3, out.stdout + out.stderr
    assert "succeeded" not in out.stdout
