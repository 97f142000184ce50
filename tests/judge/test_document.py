"""load_document: the CLI's JSON document into metrics and config, errors naming the JSON path."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cockpit.judge import deviations as dev
from cockpit.judge.document import load_document


def doc(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "metrics": [
            {"name": "p99", "group": "latency", "baseline": [1, 2], "canary": [2, 3]},
            {"name": "errors", "group": "errors", "baseline": [0.1], "canary": [0.2]},
        ],
    }
    base.update(overrides)
    return base


def test_defaults_and_values() -> None:
    metrics, config = load_document(
        doc(groups={"latency": 70, "errors": 30}, thresholds={"marginal": 60, "pass": 90},
            run_id="r", min_points=10, confidence=0.95, tolerance=0.1)
    )  # fmt: skip
    assert [m.name for m in metrics] == ["p99", "errors"]
    assert metrics[0].baseline == [1.0, 2.0] and metrics[0].direction == "either"
    assert (config.marginal, config.passing, config.min_points) == (60, 90, 10)
    assert (config.confidence, config.tolerance, config.run_id) == (0.95, 0.1, "r")
    _, defaults = load_document(doc())
    assert (defaults.marginal, defaults.passing, defaults.confidence) == (75, 95, 0.98)
    assert (defaults.tolerance, defaults.min_points) == (0.25, 50)


def test_missing_points_become_nan() -> None:
    metrics, _ = load_document(doc(metrics=[{"name": "a", "baseline": [1, None, "NaN"],
                                             "canary": ["Infinity", 2]}]))  # fmt: skip
    assert math.isnan(metrics[0].baseline[1]) and math.isnan(metrics[0].baseline[2])
    assert metrics[0].canary[0] == math.inf


BAD = [
    ([], r"\$: expected an object, got a list"),
    ({}, r"\$\.metrics: required"),
    (doc(metrics={}), r"\$\.metrics: expected a list, got an object"),
    (doc(metricz=[]), r"\$\.metricz: unknown key \(did you mean 'metrics'\?\)"),
    (doc(metrics=[{"name": "a", "baseline": [1]}]), r"\$\.metrics\[0\]\.canary: required"),
    (doc(metrics=[{"name": "a", "baseline": [1, "x"], "canary": [1]}]),
     r"\$\.metrics\[0\]\.baseline\[1\]: expected a number, got a string"),
    (doc(metrics=[{"name": "a", "baseline": [1, True], "canary": [1]}]),
     r"\$\.metrics\[0\]\.baseline\[1\]: expected a number, got a boolean"),
    (doc(metrics=[{"name": "a", "baseline": [1], "canary": [1], "mustHaveData": True}]),
     r"\$\.metrics\[0\]\.mustHaveData: unknown key \(did you mean 'must_have_data'\?\)"),
    (doc(metrics=[{"name": "a", "baseline": [1], "canary": [1], "critical": "yes"}]),
     r"\$\.metrics\[0\]\.critical: expected true or false, got a string"),
    (doc(metrics=[{"name": "a", "baseline": [1], "canary": [1], "direction": "up"}]),
     r"\$\.metrics\[0\]\.direction: 'up' is not one of increase, decrease, either"),
    (doc(groups={"latency": 50, "errors": 40}), r"\$\.groups: weights sum to 90, not 100"),
    (doc(groups={"latency": 50, "erors": 50}), r"\$\.groups\.erors: no metric is in this group"),
    (doc(groups={"latency": "half"}), r"\$\.groups\.latency: expected a number, got a string"),
    (doc(thresholds={"marginal": 90, "pass": 80}), r"\$\.thresholds: need 0 <= marginal"),
    (doc(thresholds={"passing": 80}), r"\$\.thresholds\.passing: unknown key \(did you"),
    (doc(min_points=2.5), r"\$\.min_points: expected an integer, got float"),
    (doc(confidence=1.5), r"\$\.confidence: must be between 0 and 1"),
    (doc(run_id=7), r"\$\.run_id: expected a string, got int"),
    (doc(metrics=[{"name": "a", "baseline": [1], "canary": [1]},
                  {"name": "a", "baseline": [1], "canary": [1]}]),
     r"\$\.metrics\[1\]\.name: 'a' appears twice"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "message"), BAD, ids=[m for _, m in BAD])
def test_problems_name_the_json_path(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_document(data)


def test_strict_settings_is_a_named_deviation() -> None:
    assert dev.STRICT_SETTINGS in dev.BY_NAME
