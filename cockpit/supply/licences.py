"""The licence gate: every component of the version's SBOMs judged against allow/deny lists.

A component's licence is an SPDX expression, read with `license_expression` (loaded on
first use). It passes when it can be met with allowed licences alone: one allowed side of
an OR is enough, an AND needs every part. It fails when every way to meet it needs a
denied licence. Anything else (a licence on neither list, no licence, an expression that
does not parse) is unknown, and makes the gate unknown unless some component fails
outright: fail wins, and nothing unknown ever passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from cockpit.evidence_model import Evidence, EvidenceKind
from cockpit.model import Gate, GateStatus
from cockpit.supply import EvidenceError
from cockpit.supply.documents import bounded, of_kind, plural, text
from cockpit.supply.sbom import Component, Sbom, parse_sbom

if TYPE_CHECKING:
    from license_expression import Licensing

__all__ = [
    "Component",
    "LicencePolicy",
    "Sbom",
    "Verdict",
    "judge",
    "licence_gate",
    "parse_sbom",
    "policy_problems",
]

GATE = "licences"


@dataclass(frozen=True, slots=True)
class LicencePolicy:
    """Which licences may ship: SPDX ids (or `X WITH exception`); deny wins over allow."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


class Verdict(IntEnum):
    """One licence or expression under the policy; ordered worst first."""

    DENIED = 0
    UNKNOWN = 1
    ALLOWED = 2


@cache
def _licensing() -> Licensing:
    # ~50 ms to build the SPDX symbol table: once per process, on first use.
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def _keys(entries: Sequence[str]) -> tuple[frozenset[str], list[str]]:
    """The policy's licence keys as the parser spells them, and the entries that do not parse.

    An entry may be an expression ("MIT OR Apache-2.0"): each licence in it is listed.
    """
    licensing = _licensing()
    keys: set[str] = set()
    bad: list[str] = []
    for entry in entries:
        try:
            parsed = licensing.parse(entry, validate=False)
        except Exception:  # license_expression's ExpressionError and kin
            parsed = None
        if parsed is None:
            bad.append(text(entry))
            continue
        keys.update(_symbol_key(s) for s in licensing.license_symbols(parsed, decompose=False))
    return frozenset(keys), bad


def _symbol_key(symbol: Any) -> str:
    from license_expression import LicenseWithExceptionSymbol

    if isinstance(symbol, LicenseWithExceptionSymbol):
        return f"{_symbol_key(symbol.license_symbol)} WITH {_symbol_key(symbol.exception_symbol)}"
    return str(symbol.key).casefold()


def policy_problems(policy: LicencePolicy) -> tuple[str, ...]:
    """What in the policy is not an SPDX licence expression (for the config check)."""
    return tuple(
        f"{side} entry {bad!r} is not an SPDX licence expression"
        for side, entries in (("allow", policy.allow), ("deny", policy.deny))
        for bad in _keys(entries)[1]
    )


class _Judge:
    """Judges expressions under one policy, each distinct expression once."""

    def __init__(self, policy: LicencePolicy) -> None:
        self.allow, _ = _keys(policy.allow)
        self.deny, _ = _keys(policy.deny)
        self.seen: dict[str, Verdict] = {}

    def __call__(self, licence: str) -> Verdict:
        if licence not in self.seen:
            self.seen[licence] = self._judge(licence)
        return self.seen[licence]

    def _judge(self, licence: str) -> Verdict:
        if not licence:
            return Verdict.UNKNOWN
        licensing = _licensing()
        try:
            parsed = licensing.parse(licence, validate=False)
            return Verdict.UNKNOWN if parsed is None else self._node(parsed)
        except RecursionError:
            return Verdict.UNKNOWN
        except Exception:  # ExpressionError, ParseError: not an SPDX expression
            return Verdict.UNKNOWN

    def _node(self, node: Any) -> Verdict:
        from license_expression import LicenseWithExceptionSymbol

        licensing = _licensing()
        if isinstance(node, licensing.OR):
            return max(self._node(arg) for arg in node.args)
        if isinstance(node, licensing.AND):
            return min(self._node(arg) for arg in node.args)
        key = _symbol_key(node)
        if key in self.deny:
            return Verdict.DENIED
        if key in self.allow:
            return Verdict.ALLOWED
        if isinstance(node, LicenseWithExceptionSymbol):
            # An exception only adds permissions, so the base licence decides.
            return self._node(node.license_symbol)
        return Verdict.UNKNOWN


def judge(licence: str, policy: LicencePolicy) -> Verdict:
    """One licence expression under the policy."""
    return _Judge(policy)(licence)


def _named(component: Component) -> str:
    # Bounded here too: an SBOM's licence may run to 1,000 characters, a name to 120.
    return f"{text(component.label, 100)} ({text(component.licence, 80) or 'no licence'})"


def licence_gate(
    docs: Sequence[Evidence], policy: LicencePolicy, *, service: str, version: str
) -> Gate:
    """The licence gate for `version` of `service` from every SBOM fetched for it."""
    mine = of_kind(docs, EvidenceKind.SBOM, service, version)
    source = ", ".join(dict.fromkeys(text(d.source) for d in mine if d.source))

    def gate(status: GateStatus, evidence: str, facts: Sequence[tuple[str, str]] = ()) -> Gate:
        return Gate(GATE, status, evidence, service, "", source, version, tuple(facts))

    if not mine:
        return gate(GateStatus.UNKNOWN, f"no SBOM for {text(service)} {text(version)}")
    bad_policy = policy_problems(policy)
    if bad_policy:
        return gate(GateStatus.UNKNOWN, "licence policy: " + bounded(bad_policy, 2))
    problems: list[str] = []
    sboms: list[Sbom] = []
    for doc in mine:
        if doc.problem:
            problems.append(f"SBOM fetch failed: {text(doc.problem)}")
            continue
        try:
            sboms.append(parse_sbom(doc.body, doc.media_type))
        except EvidenceError as exc:
            problems.append(f"SBOM unusable: {text(str(exc))}")
    verdict = _Judge(policy)
    denied: list[str] = []
    unknown: list[str] = []
    # One component listed twice (in two SBOMs of the version, or twice in one) is one.
    components = dict.fromkeys(c for sbom in sboms for c in sbom.components)
    total = len(components)
    for component in components:
        result = verdict(component.licence)
        if result is Verdict.DENIED:
            denied.append(_named(component))
        elif result is Verdict.UNKNOWN:
            unknown.append(_named(component))
    facts = [
        ("sbom_digest", ",".join(s.digest for s in sboms)),
        ("sbom_format", ",".join(f"{s.format} {s.spec_version}" for s in sboms)),
        ("components", str(total)),
        ("denied", str(len(denied))),
        ("unknown", str(len(unknown))),
    ]
    facts = [(k, v) for k, v in facts if v]
    if denied:
        line = f"denied licence in {len(denied)} of {plural(total, 'component')}: {bounded(denied)}"
        if unknown or problems:
            line += f"; also {len(unknown)} unknown" + (
                f", {len(problems)} unusable SBOM" if problems else ""
            )
        return gate(GateStatus.FAIL, line, facts)
    if problems:
        return gate(GateStatus.UNKNOWN, bounded(problems, 2), facts)
    if unknown:
        line = (
            f"unknown licence in {len(unknown)} of {plural(total, 'component')}: {bounded(unknown)}"
        )
        return gate(GateStatus.UNKNOWN, line, facts)
    if not total:
        return gate(GateStatus.UNKNOWN, "the SBOM lists no components", facts)
    kinds = ", ".join(dict.fromkeys(f"{s.format} {s.spec_version}" for s in sboms))
    return gate(GateStatus.PASS, f"all {plural(total, 'component')} allowed ({kinds})", facts)
