"""Fixtures for the canary judge tests: recorded reference vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "judge"


@pytest.fixture(scope="session")
def tie_out() -> dict:
    """Kayenta's 'tie out with R' vectors (90 vs 90 half-integers) and R's answers."""
    return json.loads((FIXTURES / "kayenta_tie_out.json").read_text())
