"""`policy.supply_chain`: every key checked with file:line, provenance files resolved against
the config's folder, and `cockpit config check` naming each problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit import config
from cockpit.actions.supply_config import DEMO_PUBLIC_KEY, spdx_problem
from cockpit.errors import ConfigError
from tests.cli import cockpit

CONNECTOR = "environments: [dev, staging, prod]\nconnectors:\n  - {name: ci, type: demo}\n"


def write(tmp_path: Path, policy: str) -> Path:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONNECTOR + "policy:\n  supply_chain:\n" + policy)
    return path


def problems(tmp_path: Path, policy: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as info:
        config.load(str(write(tmp_path, policy)), env={})
    return [(p.line, p.field or "", p.message) for p in info.value.problems]


FULL = """\
    provenance:
      builders: [https://github.com/actions/runner/github-hosted]
      repository: "acme/{service}"
      refs: [refs/heads/main, "refs/tags/v*"]
      public_keys: [keys/release.pub]
      trusted_root: trust/trusted_root.json
      identities:
        - {issuer: "https://token.actions.githubusercontent.com", san: "https://github.com/acme/*"}
    licences: {allow: [MIT, Apache-2.0, "MIT OR Apache-2.0"], deny: [GPL-3.0-only]}
    tests: {flaky_window: 5, flaky_blocks: true}
    scans: {fail_at: medium}
"""


def test_a_full_section_loads_with_paths_resolved_against_the_config_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "release.pub").write_text(DEMO_PUBLIC_KEY)
    (tmp_path / "trust").mkdir()
    (tmp_path / "trust" / "trusted_root.json").write_text("{}")
    # Loaded from another working directory: the paths are the config file's, not ours.
    settings = config.load(str(write(tmp_path, FULL)), env={})
    supply = settings.policy.supply_chain
    assert supply.provenance is not None
    assert supply.provenance.public_keys == [str(tmp_path / "keys" / "release.pub")]
    assert supply.provenance.trusted_root == str(tmp_path / "trust" / "trusted_root.json")
    assert supply.provenance.identities[0].san == "https://github.com/acme/*"
    assert supply.licences is not None and supply.licences.deny == ["GPL-3.0-only"]
    assert supply.tests is not None and (supply.tests.flaky_window, supply.tests.flaky_blocks) == (
        5,
        True,
    )
    assert supply.scans is not None and supply.scans.fail_at == "medium"


def test_an_absent_section_configures_no_gate(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONNECTOR)
    supply = config.load(str(path), env={}).policy.supply_chain
    assert (supply.provenance, supply.licences, supply.tests, supply.scans) == (
        None,
        None,
        None,
        None,
    )


def test_inline_pem_needs_no_file(tmp_path: Path) -> None:
    pem = "\n".join("          " + line for line in DEMO_PUBLIC_KEY.splitlines())
    policy = "    provenance:\n      builders: [b]\n      public_keys:\n        - |\n" + pem + "\n"
    supply = config.load(str(write(tmp_path, policy)), env={}).policy.supply_chain
    assert supply.provenance is not None
    assert supply.provenance.public_keys[0].startswith("-----BEGIN PUBLIC KEY-----")


@pytest.mark.parametrize(
    ("policy", "field", "words"),
    [
        (
            "    scans: {fail_at: hgih}\n",
            "policy.supply_chain.scans.fail_at",
            "did you mean 'high'",
        ),
        ("    scans: {failat: high}\n", "policy.supply_chain.scans.failat", "unknown key"),
        ("    provenace: {}\n", "policy.supply_chain.provenace", "did you mean 'provenance'"),
        ("    tests: {flaky_window: 0}\n", "policy.supply_chain.tests", "between 1 and 1000"),
        (
            "    tests: {flaky_blocks: maybe}\n",
            "policy.supply_chain.tests.flaky_blocks",
            "true or false",
        ),
        ("    licences: {}\n", "policy.supply_chain.licences", "at least one licence"),
        ("    licences: {deny: [GPL-3.0-only AND]}\n", "policy.supply_chain.licences", "ends"),
        ("    licences: {allow: [MIT OR (BSD]}\n", "policy.supply_chain.licences", "ends"),
        ("    provenance: {public_keys: [k.pem]}\n", "policy.supply_chain.provenance", "builders"),
        ("    provenance: {builders: [b]}\n", "policy.supply_chain.provenance", "no signature"),
        (
            "    provenance: {builders: [b], trusted_root: r.json}\n",
            "policy.supply_chain.provenance",
            "needs identities",
        ),
        (
            "    provenance: {builders: [b], public_keys: [k], repository: acme}\n",
            "policy.supply_chain.provenance",
            "owner/repo",
        ),
        (
            "    provenance: {builders: [b], public_keys: [k], identities: [{issuer: i}]}\n",
            "policy.supply_chain.provenance.identities[0]",
            "missing required key 'san'",
        ),
    ],
)
def test_each_bad_key_is_refused_with_its_line(
    tmp_path: Path, policy: str, field: str, words: str
) -> None:
    found = problems(tmp_path, policy)
    assert any(f == field and words in m for _, f, m in found), found
    assert all(line is not None and line >= 6 for line, _, _ in found), found


def test_missing_key_and_trust_root_files_are_named_with_their_resolved_path(
    tmp_path: Path,
) -> None:
    policy = (
        "    provenance:\n      builders: [b]\n      public_keys: [gone.pub]\n"
        "      trusted_root: /nowhere/trusted_root.json\n      identities: [{issuer: i, san: s}]\n"
    )
    found = problems(tmp_path, policy)
    assert (
        8,
        "policy.supply_chain.provenance.public_keys[0]",
        f"public key file not found: {tmp_path / 'gone.pub'}",
    ) in found
    assert (
        9,
        "policy.supply_chain.provenance.trusted_root",
        "trusted root file not found: /nowhere/trusted_root.json",
    ) in found


def test_config_check_lists_every_supply_chain_problem(tmp_path: Path) -> None:
    policy = (
        "    scans: {fail_at: severe}\n    tests: {flaky_window: -1}\n    licences: {deny: [AND]}\n"
    )
    out = cockpit("config", "check", "--config", str(write(tmp_path, policy)), cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 3, out.stderr
    assert ":6: policy.supply_chain.scans.fail_at:" in lines[0]
    assert ":7: policy.supply_chain.tests:" in lines[1]
    assert ":8: policy.supply_chain.licences:" in lines[2]


@pytest.mark.parametrize(
    ("expression", "ok"),
    [
        ("MIT", True),
        ("MIT OR Apache-2.0", True),
        ("(MIT OR Apache-2.0) AND BSD-3-Clause", True),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", True),
        ("LicenseRef-acme-internal", True),
        ("GPL-2.0+", True),
        ("", False),
        ("MIT OR", False),
        ("OR MIT", False),
        ("MIT Apache-2.0", False),
        ("(MIT", False),
        ("MIT)", False),
        ("MIT; rm -rf", False),
    ],
)
def test_spdx_expressions_are_checked_in_form_without_the_licence_library(
    expression: str, ok: bool
) -> None:
    assert (spdx_problem(expression) == "") is ok


def test_the_example_in_docs_gates_md_loads(tmp_path: Path) -> None:
    import re

    import yaml

    from tests.cli import ROOT

    text = (ROOT / "docs" / "gates.md").read_text()
    example = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "supply_chain" in b)
    doc = yaml.safe_load(example)
    doc.update(environments=["dev", "staging", "prod"], connectors=[{"name": "ci", "type": "demo"}])
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "release.pub").write_text(DEMO_PUBLIC_KEY)
    (tmp_path / "sigstore").mkdir()
    (tmp_path / "sigstore" / "trusted_root.json").write_text("{}")
    path = tmp_path / "cockpit.yaml"
    path.write_text(yaml.safe_dump(doc))
    policy = config.load(str(path), env={}).policy
    assert policy.environments["prod"].gates == [
        "pipeline",
        "tests",
        "canary",
        "alerts",
        "provenance",
        "licences",
        "scans",
    ]
    assert policy.supply_chain.scans is not None and policy.supply_chain.scans.fail_at == "high"
