"""Reading the judge's input document (JSON data) into metrics and config, path by path."""

from __future__ import annotations

import difflib
import math
from typing import Any

from cockpit.judge.canonical import member
from cockpit.judge.cleaning import OUT_OF_RANGE
from cockpit.judge.core import validate
from cockpit.judge.inputs import JudgeConfig, MetricInput

TOP_KEYS = ("metrics", "groups", "thresholds", "run_id", "min_points", "confidence", "tolerance")
THRESHOLD_KEYS = ("marginal", "pass")
METRIC_KEYS = {
    "name": "str",
    "baseline": "series",
    "canary": "series",
    "direction": "str",
    "critical": "bool",
    "group": "str",
    "must_have_data": "bool",
    "muted": "bool",
    "nan_strategy": "str",
    "outliers": "str",
    "outlier_factor": "number",
    "effect_measure": "str",
    "allowed_increase": "number",
    "allowed_decrease": "number",
    "critical_increase": "number",
    "critical_decrease": "number",
    "unit": "str",
}
REQUIRED = ("name", "baseline", "canary")
# The strings canonical JSON uses for values plain JSON cannot hold.
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _problem(path: str, text: str) -> ValueError:
    return ValueError(f"{path}: {text}")


def _kind(value: object) -> str:
    names = {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _check_keys(data: dict[str, Any], allowed: tuple[str, ...] | list[str], path: str) -> None:
    squash = {k.replace("_", "").lower(): k for k in allowed}
    for key in data:
        if key in allowed:
            continue
        close = squash.get(str(key).replace("_", "").lower()) or next(
            iter(difflib.get_close_matches(str(key), allowed, n=1)), None
        )
        hint = f" (did you mean {close!r}?)" if close else ""
        raise _problem(f"{path}{member(str(key))}", f"unknown key{hint}")


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _problem(path, f"expected a number, got {_kind(value)}")
    try:
        return float(value)
    except OverflowError:  # an integer of some 309 digits or more
        raise _problem(path, OUT_OF_RANGE) from None


def _series(value: object, path: str) -> list[float]:
    if not isinstance(value, list):
        raise _problem(path, f"expected a list of numbers, got {_kind(value)}")
    points = []
    for i, item in enumerate(value):
        if item is None:
            points.append(math.nan)  # a missing point: the NaN strategy decides
        elif isinstance(item, str) and item in NON_FINITE:
            points.append(NON_FINITE[item])
        else:
            points.append(_number(item, f"{path}[{i}]"))
    return points


def _metric(data: object, path: str) -> MetricInput:
    if not isinstance(data, dict):
        raise _problem(path, f"expected an object, got {_kind(data)}")
    _check_keys(data, list(METRIC_KEYS), path)
    for key in REQUIRED:
        if key not in data:
            raise _problem(f"{path}{member(key)}", "required")
    fields: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{path}{member(key)}"
        kind = METRIC_KEYS[key]
        if kind == "series":
            fields[key] = _series(value, where)
        elif kind == "number":
            fields[key] = _number(value, where)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise _problem(where, f"expected true or false, got {_kind(value)}")
            fields[key] = value
        elif not isinstance(value, str):
            raise _problem(where, f"expected a string, got {_kind(value)}")
        else:
            fields[key] = value
    return MetricInput(**fields)


def load_document(data: object) -> tuple[list[MetricInput], JudgeConfig]:
    """Metrics and config from the parsed JSON document; ValueError names the JSON path."""
    if not isinstance(data, dict):
        raise _problem("$", f"expected an object, got {_kind(data)}")
    _check_keys(data, TOP_KEYS, "$")
    if "metrics" not in data:
        raise _problem("$.metrics", "required")
    raw_metrics = data["metrics"]
    if not isinstance(raw_metrics, list):
        raise _problem("$.metrics", f"expected a list, got {_kind(raw_metrics)}")
    metrics = [_metric(item, f"$.metrics[{i}]") for i, item in enumerate(raw_metrics)]
    groups = data.get("groups", {})
    if not isinstance(groups, dict):
        raise _problem("$.groups", f"expected an object of weights, got {_kind(groups)}")
    weights = {name: _number(w, f"$.groups{member(name)}") for name, w in groups.items()}
    thresholds = data.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise _problem("$.thresholds", f"expected an object, got {_kind(thresholds)}")
    _check_keys(thresholds, THRESHOLD_KEYS, "$.thresholds")
    settings: dict[str, Any] = {"groups": weights}
    for key, field in (("marginal", "marginal"), ("pass", "passing")):
        if key in thresholds:
            settings[field] = _number(thresholds[key], f"$.thresholds.{key}")
    for key in ("confidence", "tolerance"):
        if key in data:
            settings[key] = _number(data[key], f"$.{key}")
    if "min_points" in data:
        value = data["min_points"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise _problem("$.min_points", f"expected an integer, got {_kind(value)}")
        settings["min_points"] = value
    if "run_id" in data:
        if not isinstance(data["run_id"], str):
            raise _problem("$.run_id", f"expected a string, got {_kind(data['run_id'])}")
        settings["run_id"] = data["run_id"]
    config = JudgeConfig(**settings)
    try:
        validate(metrics, config)
    except ValueError as exc:
        raise ValueError(f"$.{exc}") from None
    return metrics, config
