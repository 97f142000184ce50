"""The package metadata a fresh `pip install -e .` reads without deprecation warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# An SPDX expression: identifiers (or LicenseRef-...) joined by AND/OR/WITH, parentheses allowed.
SPDX = re.compile(r"^[A-Za-z0-9.+()\- ]+$")


def test_the_licence_is_an_spdx_string_not_a_deprecated_table() -> None:
    licence = PYPROJECT["project"]["license"]
    assert isinstance(licence, str), "setuptools >= 77 warns on every install for a table"
    assert SPDX.match(licence), licence


def test_every_declared_licence_file_exists() -> None:
    files = PYPROJECT["project"]["license-files"]
    assert files
    for pattern in files:
        assert list(ROOT.glob(pattern)), f"license-files names {pattern!r}, which matches nothing"


def test_no_licence_classifier_duplicates_the_expression() -> None:
    classifiers = PYPROJECT["project"].get("classifiers", [])
    assert not [c for c in classifiers if c.startswith("License ::")]


def test_the_build_backend_is_new_enough_for_a_licence_expression() -> None:
    requires = PYPROJECT["build-system"]["requires"]
    setuptools = next(r for r in requires if r.startswith("setuptools"))
    minimum = re.search(r">=\s*(\d+)", setuptools)
    assert minimum is not None and int(minimum.group(1)) >= 77, setuptools
