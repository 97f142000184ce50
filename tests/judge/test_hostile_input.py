"""Judge input nobody should send: one clear line and exit 2 from the CLI, a failing verdict
(never a pass, never a traceback) from judge() and in the hub."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.fleet.analysis import ERROR, Analyst
from cockpit.judge import JudgeConfig, MetricInput, judge, load_document
from cockpit.judge.cli import EXIT_INVALID, EXIT_NOT_PASS
from cockpit.model import Canary, CanaryPhase, MetricSeries
from tests.cli import cockpit

HUGE = 1.7e308  # x - y and sums of such values overflow binary64
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _document(baseline: object, canary: object, name: str = "m") -> dict:
    return {"metrics": [{"name": name, "baseline": baseline, "canary": canary}]}


def _judge_file(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    path = tmp_path / "canary.json"
    path.write_text(text, encoding="utf-8")
    run = cockpit("canary", "judge", "--input", str(path), *args)
    return run.returncode, run.stdout, run.stderr


def _assert_one_line(code: int, out: str, err: str) -> None:
    assert code == EXIT_INVALID, (out, err)
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("cockpit: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param(
            '{"metrics": [{"name": "m", "baseline": [%s], "canary": [1]}]}' % ("9" * 400),
            "$.metrics[0].baseline[0]: number out of range",
            id="400-digit number",
        ),
        pytest.param(
            '{"metrics": [{"name": "m", "baseline": [1], "canary": [2, -1e999]}]}',
            "$.metrics[0].canary[1]: number out of range",
            id="float literal past binary64",
        ),
        pytest.param("[" * 100_000 + "]" * 100_000, "nested too deeply", id="deep nesting"),
        pytest.param(
            '{"metrics": [{"name": "m", "baseline": [NaN], "canary": [1]}]}',
            'NaN is not JSON (write "NaN")',
            id="bare NaN",
        ),
        pytest.param(
            '{"metrics": [{"name": "m", "baseline": [1], "canary": [-Infinity]}]}',
            '-Infinity is not JSON (write "-Infinity")',
            id="bare -Infinity",
        ),
    ],
)
def test_hostile_documents_exit_2_with_one_line(tmp_path: Path, text: str, says: str) -> None:
    code, out, err = _judge_file(tmp_path, text)
    _assert_one_line(code, out, err)
    assert says in err


def _series(rng: random.Random, n: int = 60, scale: float = 1.0) -> list[float]:
    return [rng.gauss(100, 5) * scale for _ in range(n)]


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_values_near_the_binary64_limit_are_an_error_not_a_crash(tmp_path: Path, fmt: str) -> None:
    rng = random.Random(1)
    document = _document(
        [HUGE * (1 - rng.random() / 10) for _ in range(60)],
        [-HUGE * (1 - rng.random() / 10) for _ in range(60)],
    )
    code, out, err = _judge_file(tmp_path, json.dumps(document), "--format", fmt)
    assert (code, err) == (EXIT_NOT_PASS, "")
    assert "Traceback" not in out
    verdict = judge(*load_document(document))
    (metric,) = verdict.metrics
    assert metric.classification == "Error" and "too large" in metric.reason
    assert verdict.decision != "pass"


def test_lone_surrogates_in_names_are_judged_and_printed_inert(tmp_path: Path) -> None:
    rng = random.Random(2)
    text = json.dumps(_document(_series(rng), _series(rng), name="p99\ud800 latency"))
    for fmt in ("table", "json"):
        code, out, err = _judge_file(tmp_path, text, "--format", fmt)
        assert code in (0, 1) and err == "", err
        assert "p99<U+D800> latency" in out if fmt == "table" else "p99\\ud800 latency" in out


def test_control_characters_in_any_printed_field_are_made_inert(tmp_path: Path) -> None:
    rng = random.Random(3)
    document = _document(_series(rng), _series(rng, scale=2), name="lat\x1b[2Jency\x9b")
    document["metrics"][0].update(group="g\x1b]0;pwned\x07", unit="ms\u202e")
    document["run_id"] = "r\x1b[31m"
    code, out, err = _judge_file(tmp_path, json.dumps(document), "--format", "table")
    assert code == EXIT_NOT_PASS and err == ""
    assert not any(ch in out for ch in ("\x1b", "\x9b", "\x07", "\u202e"))
    assert "lat^[[2Jency" in out and "g^[]0;pwned^G" in out


def test_python_callers_get_a_value_error_with_the_path_not_an_overflow() -> None:
    metric = MetricInput("m", [10**400] + [1.0] * 59, [1.0] * 60)
    with pytest.raises(ValueError, match=r"metrics\[0\]\.baseline\[0\]: number out of range"):
        judge([metric])


def _canary(*metrics: MetricSeries) -> Canary:
    return Canary(
        "web", "prod", "1.0", "1.1", 2, 6, 10, CanaryPhase.PROGRESSING,
        NOW - timedelta(minutes=20), "rollouts", NOW, metrics=metrics,
    )  # fmt: skip


def _metric(name: str, baseline: list, canary: list) -> MetricSeries:
    times = tuple(NOW - timedelta(seconds=15 * (60 - i)) for i in range(len(baseline)))
    return MetricSeries(name, "ms", times, tuple(baseline), tuple(canary), group="golden")


@pytest.mark.parametrize(
    ("baseline", "canary", "name"),
    [
        pytest.param([HUGE] * 30 + [HUGE / 2] * 30, [-HUGE] * 60, "m", id="near 1.8e308"),
        pytest.param([10**400] + [1.0] * 59, [1.0] * 60, "m", id="400-digit int"),
        pytest.param([math.nan] * 60, [math.inf] * 60, "m", id="NaN and Infinity"),
        pytest.param([1.0, 2.0] * 30, [5.0, 6.0] * 30, "bad\ud800\x1b[2J", id="lone surrogate"),
    ],
)
def test_hub_verdict_on_hostile_series_fails_closed(
    baseline: list, canary: list, name: str
) -> None:
    """The hub's Analyst never raises on what a metrics source sends: an error or failing
    verdict, never a pass (this crashed `cockpit status` and the TUI)."""
    c = _canary(_metric(name, baseline, canary))
    verdict = Analyst().verdict(c, c.metrics)
    assert verdict.decision in (ERROR, "fail", "marginal")
    if verdict.decision == ERROR:
        assert verdict.reason.startswith("cannot judge: ") and "\n" not in verdict.reason


def test_judge_survives_its_own_extremes() -> None:
    """Constant huge samples go through the noise path; mixed signs through the interval."""
    for baseline, canary in (([HUGE / 8] * 60, [HUGE / 4] * 60), ([1e300] * 60, [-1e300] * 60)):
        verdict = judge([MetricInput("m", baseline, canary)], JudgeConfig())
        assert verdict.decision != "pass"
