"""The condition evaluator: Argo's expression subset, Go float semantics, and nothing more."""

from __future__ import annotations

import math

import pytest

from cockpit.judge.expr import ExpressionError, condition

NAN = math.nan


@pytest.mark.parametrize(
    ("text", "result", "expected"),
    [
        ("result < 0.01", 0.005, True),
        ("result < 0.01", NAN, False),
        ("result >= 0.95", NAN, False),
        ("result == result", NAN, False),
        ("result != result", NAN, True),
        ("isNaN(result) || result > 1", NAN, True),
        ("isNaN(result) || result > 1", 0.5, False),
        ("result[0] >= 0.95 && result[1] < 300", [0.97, 250.0], True),
        ("!(result < 1) and not false", 2.0, True),
        ("len(result) == 2 && result[-1] == 3", [1.0, 3.0], True),
        ("-result < -1 && +result > 1", 2.0, True),
        ("result / 0 > 1e300", 1.0, True),
        ("result * 2 + 1 - 3 % 2 == 4", 2.0, True),
        ("abs(result) == 3", -3.0, True),
        ("asFloat(result) > 1.5 && asInt(result) == 2", "2.5", True),
        ("default(result, 0) == 0", None, True),
        ("result == 'ok'", "ok", True),
        ("result > 1 || 1 / 0", 2.0, True),  # short-circuit: the right side is never evaluated
        ("(result > 1) == true", 2.0, True),
        ("true == 1", 2.0, False),  # no coercion between booleans and numbers
    ],
)
def test_conditions(text: str, result: object, expected: bool) -> None:
    assert condition(text, result) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "only isNaN"),
        ("__import__('os').system('id')", "unexpected"),
        ("result.__class__", "unexpected"),
        ("open('x')", "only isNaN"),
        ("1 < result < 3", "cannot be chained"),
        ("result ** 2", "unexpected"),
        ("result", "expected true or false"),
        ("secret > 1", "unknown name 'secret'"),
        ("result[9] > 1", "out of range"),
        ("result +", "expected more"),
        ("", "empty condition"),
        ("result > 1 )", r"unexpected '\)'"),
        ("result > 'a'", "cannot order"),
        ("!" * 100 + "true", "nested too deeply"),
        ("(" * 70 + "true" + ")" * 70, "nested too deeply"),
        ("x" * 3000, "longer than"),
    ],
)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        condition(text, [1.0, 2.0] if "[9]" in text else 2.0)
