"""The canary judge: Mann-Whitney classification of each metric, scoring and a decision.

Deterministic, and failing closed where Kayenta's NetflixACAJudge would pass a canary on
missing or broken evidence. Names are loaded on first use so `cockpit --help` (which
registers `canary judge`) stays fast; numpy (no scipy) loads only when judging starts.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.judge.core import JUDGE_VERSION, judge
    from cockpit.judge.document import load_document
    from cockpit.judge.inputs import JudgeConfig, MetricInput
    from cockpit.judge.mannwhitney import mannwhitneyu
    from cockpit.judge.result import GroupResult, JudgeResult, MetricResult

_WHERE = {
    "JUDGE_VERSION": "cockpit.judge.core",
    "judge": "cockpit.judge.core",
    "load_document": "cockpit.judge.document",
    "JudgeConfig": "cockpit.judge.inputs",
    "MetricInput": "cockpit.judge.inputs",
    "mannwhitneyu": "cockpit.judge.mannwhitney",
    "GroupResult": "cockpit.judge.result",
    "JudgeResult": "cockpit.judge.result",
    "MetricResult": "cockpit.judge.result",
}

__all__ = [
    "JUDGE_VERSION",
    "GroupResult",
    "JudgeConfig",
    "JudgeResult",
    "MetricInput",
    "MetricResult",
    "judge",
    "load_document",
    "mannwhitneyu",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'cockpit.judge' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
