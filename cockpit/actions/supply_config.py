"""The `policy.supply_chain` section: what provenance, licences, tests and scans must show.

Plain dataclasses parsed by `cockpit.connect.options` like the rest of the policy (unknown
keys refused with file:line). Checked here without the heavy libraries (sigstore,
cryptography, license_expression): config is read at start-up. The gates build the
evaluators' own policy objects from these (`cockpit.actions.supply_gates`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cockpit.connect.options import LineMap
from cockpit.errors import ConfigError

PEM_START = "-----BEGIN "
SEVERITIES = ("low", "medium", "high", "critical")
# An SPDX expression's words: licence ids (with "+"), LicenseRef-/DocumentRef- ids, the
# operators and parentheses. The licence list itself is checked by the gate, not at start-up.
_SPDX_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9][A-Za-z0-9.+:-]*)")
_OPERATORS = {"AND", "OR", "WITH"}


def spdx_problem(expression: str) -> str:
    """Why `expression` is not an SPDX licence expression in form, or "" when it is."""
    text = expression.strip()
    if not text:
        return "an empty licence expression"
    pos, depth, want_id = 0, 0, True
    while pos < len(text):
        m = _SPDX_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            return f"unexpected {text[pos:].strip()[:20]!r} in {expression!r}"
        word, pos = m.group(1), m.end()
        if word == "(":
            if not want_id:
                return f"a licence or operator is missing before '(' in {expression!r}"
            depth += 1
        elif word == ")":
            depth -= 1
            if depth < 0 or want_id:
                return f"unbalanced ')' in {expression!r}"
        elif word.upper() in _OPERATORS:
            if want_id:
                return f"{word!r} needs a licence before it in {expression!r}"
            want_id = True
        else:
            if not want_id:
                return f"an operator (AND, OR, WITH) is missing before {word!r} in {expression!r}"
            want_id = False
    if depth or want_id:
        return f"{expression!r} ends early"
    return ""


@dataclass
class SigstoreIdentityConfig:
    """Who may have signed a Sigstore bundle: the OIDC issuer and the certificate's SAN."""

    issuer: str
    san: str  # fnmatch pattern, e.g. https://github.com/acme/*/.github/workflows/release.yml@*

    def validate(self) -> None:
        if not self.issuer.strip() or not self.san.strip():
            raise ValueError("an identity needs both issuer and san")


@dataclass
class ProvenanceConfig:
    """Which builds the promoted artifact may come from, and whose signatures count."""

    builders: list[str] = field(default_factory=list)  # builder ids allowed (exact)
    repository: str = ""  # "owner/repo"; "{service}" stands for the service's name
    refs: list[str] = field(default_factory=list)  # fnmatch patterns: refs/heads/main, ...
    public_keys: list[str] = field(default_factory=list)  # PEM files or inline PEM
    trusted_root: str = ""  # Sigstore trusted_root.json; "" = Sigstore bundles stay unknown
    identities: list[SigstoreIdentityConfig] = field(default_factory=list)

    def validate(self) -> None:
        if not self.builders:
            raise ValueError("builders must name at least one builder id")
        if not self.public_keys and not self.trusted_root:
            raise ValueError(
                "public_keys or trusted_root (with identities) is needed: "
                "otherwise no signature can ever verify"
            )
        if self.trusted_root and not self.identities:
            raise ValueError("trusted_root needs identities: whose Sigstore signatures count")
        if self.repository and self.repository.count("/") != 1:
            raise ValueError(f"repository must be owner/repo, got {self.repository!r}")


@dataclass
class LicencesConfig:
    """SPDX expressions a component's licence must satisfy (allow) or must not (deny)."""

    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if not self.allow and not self.deny:
            raise ValueError("allow or deny must name at least one licence")
        for expression in (*self.allow, *self.deny):
            if why := spdx_problem(expression):
                raise ValueError(why)


@dataclass
class TestsConfig:
    """How the tests gate reads test reports across runs."""

    __test__ = False  # not a pytest test class, despite the name

    flaky_window: int = 10  # the last N runs of a service searched for flips
    flaky_blocks: bool = False  # does a failure of a known-flaky test fail the gate?

    def validate(self) -> None:
        if not 1 <= self.flaky_window <= 1000:
            raise ValueError("flaky_window must be between 1 and 1000")


@dataclass
class ScansConfig:
    """Open code-scanning alerts at or above `fail_at` on the promoted commit fail the gate."""

    fail_at: Literal["low", "medium", "high", "critical"] = "high"


@dataclass
class SupplyChainConfig:
    """Each section present puts its gate in every promote's checklist."""

    provenance: ProvenanceConfig | None = None
    licences: LicencesConfig | None = None
    tests: TestsConfig | None = None
    scans: ScansConfig | None = None


def is_inline_pem(value: str) -> bool:
    return value.lstrip().startswith(PEM_START)


def supply_problems(config: SupplyChainConfig, lines: LineMap) -> Iterator[ConfigError]:
    """Resolve the provenance files against the config file's folder (in place) and name
    each one that cannot be read. The built-in demo has no folder: its keys are inline."""
    prov = config.provenance
    if prov is None:
        return
    base = Path(lines.file).parent if lines.file and not lines.file.startswith("(") else None
    where = ("policy", "supply_chain", "provenance")

    def resolved(value: str) -> str:
        path = Path(value).expanduser()
        return str(base / path) if base is not None and not path.is_absolute() else str(path)

    for i, key in enumerate(prov.public_keys):
        if is_inline_pem(key):
            if "-----END " not in key:
                yield lines.error((*where, "public_keys", i), "inline PEM without its END line")
            continue
        prov.public_keys[i] = path = resolved(key)
        if not Path(path).is_file():
            yield lines.error((*where, "public_keys", i), f"public key file not found: {path}")
    if prov.trusted_root:
        prov.trusted_root = path = resolved(prov.trusted_root)
        if not Path(path).is_file():
            yield lines.error((*where, "trusted_root"), f"trusted root file not found: {path}")


# The demo fleet's provenance key (connectors/demo/sim_evidence.py signs with its private
# half, which is public too: it is a demo). Inline, so the demo needs no file.
DEMO_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEABzNU1ehI2kreqa8xX3cbZEmJtbHoF0s2NPg4KVZkQ2g=
-----END PUBLIC KEY-----
"""


def demo_supply_chain() -> SupplyChainConfig:
    """The built-in demo's supply-chain policy: all four gates, against its documents."""
    return SupplyChainConfig(
        provenance=ProvenanceConfig(
            builders=["https://github.com/actions/runner/github-hosted"],
            repository="acme-demo/{service}",
            refs=["refs/heads/main", "refs/tags/v*"],
            public_keys=[DEMO_PUBLIC_KEY],
        ),
        licences=LicencesConfig(
            allow=["MIT", "Apache-2.0", "BSD-3-Clause", "BSD-2-Clause", "ISC"],
            deny=["GPL-3.0-only", "GPL-3.0-or-later", "AGPL-3.0-or-later"],
        ),
        tests=TestsConfig(flaky_window=10, flaky_blocks=False),
        scans=ScansConfig(fail_at="high"),
    )
