"""The licence gate against recorded CycloneDX and SPDX documents and hostile ones."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.evidence_model import CYCLONEDX_JSON, SPDX_JSON, Evidence, EvidenceKind
from cockpit.model import Gate, GateStatus
from cockpit.supply import EvidenceError
from cockpit.supply.documents import digest
from cockpit.supply.licences import LicencePolicy, Verdict, judge, licence_gate, policy_problems
from cockpit.supply.sbom import MAX_COMPONENTS, MAX_DEPTH, parse_sbom
from tests.supply.helpers import doc, payload

POLICY = LicencePolicy(
    allow=("MIT", "Apache-2.0", "BSD-3-Clause", "0BSD", "MPL-2.0"),
    deny=("GPL-2.0-only", "GPL-3.0-only", "AGPL-3.0-or-later"),
)


def sbom(body: bytes, media_type: str = CYCLONEDX_JSON, **more: Any) -> Evidence:
    return doc(EvidenceKind.SBOM, body, media_type=media_type, **more)


def cyclonedx(*components: Mapping[str, object], spec: str = "1.6") -> bytes:
    return json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": spec, "components": list(components)}
    ).encode()


def lib(name: str, version: str = "1.0.0", **licence: str) -> dict[str, object]:
    """A CycloneDX component; `id=`, `name=` or `expression=` gives its one licence."""
    out: dict[str, object] = {"type": "library", "name": name, "version": version}
    if "expression" in licence:
        out["licenses"] = [{"expression": licence["expression"]}]
    elif licence:
        out["licenses"] = [{"license": licence}]
    return out


def gate(*docs: Evidence, policy: LicencePolicy = POLICY) -> Gate:
    return licence_gate(docs, policy, service="checkout", version="2.14.0")


# Parsing the recorded documents


def test_cyclonedx_components_nested_ones_too_and_not_the_product_itself() -> None:
    body = payload("cyclonedx-1.5.json")
    parsed = parse_sbom(body, CYCLONEDX_JSON)
    assert (parsed.format, parsed.spec_version, parsed.digest) == ("CycloneDX", "1.5", digest(body))
    by_name = {c.name: c for c in parsed.components}
    assert sorted(by_name) == ["express", "node", "node-forge", "qs", "tslib"]  # not "checkout"
    assert by_name["qs"].licence == "BSD-3-Clause"  # nested under express
    assert by_name["qs"].purl == "pkg:npm/qs@6.11.0"
    assert by_name["node-forge"].licence == "(BSD-3-Clause OR GPL-2.0-only)"
    assert by_name["tslib"].licence == "0BSD"  # from license.name


def test_spdx_concluded_else_declared_purl_from_either_category_spelling() -> None:
    parsed = parse_sbom(payload("spdx-2.3.json"), SPDX_JSON)
    assert (parsed.format, parsed.spec_version) == ("SPDX", "2.3")
    by_name = {c.name: c for c in parsed.components}
    assert "ghcr.io/acme/checkout" not in by_name  # the described image is the subject
    assert by_name["openssl"].licence == "Apache-2.0"  # concluded NOASSERTION -> declared
    assert by_name["openssl"].purl.startswith("pkg:apk/alpine/openssl@3.1.4-r5")
    assert by_name["musl"].purl.startswith("pkg:apk/alpine/musl@")  # PACKAGE_MANAGER
    assert by_name["busybox"].version == "1.36.1-r15"
    assert by_name["ca-certificates-bundle"].purl == ""


def test_spdx_none_and_noassertion_are_no_licence() -> None:
    body = json.dumps(
        {
            "spdxVersion": "SPDX-2.2",
            "packages": [
                {"SPDXID": "SPDXRef-a", "name": "a", "licenseConcluded": "NONE"},
                {"SPDXID": "SPDXRef-b", "name": "b", "licenseDeclared": "NOASSERTION"},
            ],
        }
    ).encode()
    assert [c.licence for c in parse_sbom(body).components] == ["", ""]


def test_several_cyclonedx_licence_entries_must_all_be_met() -> None:
    body = cyclonedx(
        {
            "name": "dual",
            "licenses": [{"license": {"id": "MIT"}}, {"license": {"id": "GPL-3.0-only"}}],
        }
    )
    (component,) = parse_sbom(body).components
    assert component.licence == "(MIT) AND (GPL-3.0-only)"
    assert judge(component.licence, POLICY) is Verdict.DENIED


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "empty"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "compo', "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"name": "x"}', "no bomFormat or spdxVersion"),
        (b'{"bomFormat": "Other", "specVersion": "1.5"}', "not 'CycloneDX'"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.1"}', "specVersion"),
        (b'{"spdxVersion": "SPDX-3.0", "packages": []}', "spdxVersion"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": {"a": 1}}', "not a list"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": ["x"]}', "not an object"),
        (
            b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "externalRefs": 3}]}',
            "not a list",
        ),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (
            b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "n": ' + b"9" * 5000 + b"}",
            "not valid JSON",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
    ],
)
def test_unusable_documents_raise_evidence_error_saying_why(body: bytes, why: str) -> None:
    with pytest.raises(EvidenceError, match=why):
        parse_sbom(body)


def test_an_spdx_id_of_the_wrong_type_is_not_a_crash() -> None:
    body = json.dumps(
        {"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": [], "name": "a"}]}
    ).encode()
    assert [c.name for c in parse_sbom(body).components] == ["a"]  # was TypeError: unhashable


def test_an_xml_sbom_media_type_is_refused() -> None:
    with pytest.raises(EvidenceError, match="not a JSON SBOM"):
        parse_sbom(cyclonedx(lib("a", id="MIT")), "application/vnd.cyclonedx+xml")


def test_more_components_than_the_bound_are_refused() -> None:
    body = cyclonedx(*({"name": f"c{i}"} for i in range(MAX_COMPONENTS + 1)))
    with pytest.raises(EvidenceError, match="more than 50,000 components"):
        parse_sbom(body)
    parse_sbom(cyclonedx(*({"name": f"c{i}"} for i in range(MAX_COMPONENTS))))  # at the bound


def test_nesting_deeper_than_the_bound_is_refused() -> None:
    def nested(depth: int) -> dict[str, object]:
        top: dict[str, object] = {"name": "n1"}
        here = top
        for level in range(2, depth + 1):
            child: dict[str, object] = {"name": f"n{level}"}
            here["components"] = [child]
            here = child
        return top

    assert len(parse_sbom(cyclonedx(nested(MAX_DEPTH))).components) == MAX_DEPTH
    with pytest.raises(EvidenceError, match="deeper than 32"):
        parse_sbom(cyclonedx(nested(MAX_DEPTH + 1)))


def test_hostile_text_is_cleaned_and_wrong_types_read_as_nothing() -> None:
    body = cyclonedx(
        {
            "name": "evil\x1b[31m[red]x[/red]\u202e",
            "version": 7,
            "purl": ["not", "text"],
            "licenses": [{"license": {"id": "MIT\x1b]0;pwned\x07"}}],
        },
    )
    (c,) = parse_sbom(body).components
    assert "\x1b" not in c.name and "\u202e" not in c.name and "^[" in c.name
    assert "[red]" in c.name  # kept as text: never parsed as markup downstream
    assert (c.version, c.purl) == ("7", "")
    assert "\x1b" not in c.licence and "\x07" not in c.licence
    assert judge(c.licence, POLICY) is Verdict.UNKNOWN  # not silently MIT


def test_a_licence_past_the_length_bound_is_cut_visibly_and_unknown() -> None:
    long = " AND ".join(["MIT"] * 400)  # 2,398 characters, every part allowed
    (c,) = parse_sbom(cyclonedx(lib("a", expression=long))).components
    assert c.licence.endswith("…") and len(c.licence) == 1_000
    assert judge(c.licence, POLICY) is Verdict.UNKNOWN
    assert judge(long, POLICY) is Verdict.ALLOWED  # the bound, not the expression, decides


def test_deeply_parenthesised_expressions_are_judged_without_crashing() -> None:
    assert judge("(" * 5_000 + "GPL-3.0-only" + ")" * 5_000, POLICY) is Verdict.DENIED


# Judging expressions


@pytest.mark.parametrize(
    ("licence", "verdict"),
    [
        ("MIT", Verdict.ALLOWED),
        ("mit", Verdict.ALLOWED),
        ("MIT OR GPL-3.0-only", Verdict.ALLOWED),
        ("GPL-3.0-only OR MIT", Verdict.ALLOWED),
        ("MIT AND GPL-3.0-only", Verdict.DENIED),
        ("(MIT AND BSD-3-Clause) OR GPL-3.0-only", Verdict.ALLOWED),
        ("(MIT AND GPL-2.0-only) OR GPL-3.0-only", Verdict.DENIED),
        ("GPL-3.0", Verdict.DENIED),  # the deprecated id names the same licence
        ("GPL-3.0-only OR LicenseRef-acme", Verdict.UNKNOWN),
        ("MIT AND LicenseRef-acme", Verdict.UNKNOWN),
        ("AGPL-3.0-or-later AND LicenseRef-acme", Verdict.DENIED),
        ("Apache-2.0 WITH LLVM-exception", Verdict.ALLOWED),
        ("GPL-2.0-only WITH Classpath-exception-2.0", Verdict.DENIED),
        ("ISC", Verdict.UNKNOWN),
        ("", Verdict.UNKNOWN),
        ("MIT AND (", Verdict.UNKNOWN),
        ("MIT AND", Verdict.UNKNOWN),
        ("[red]MIT", Verdict.UNKNOWN),
        ("((MIT))", Verdict.ALLOWED),
    ],
)
def test_expressions_are_judged_as_spdx_says(licence: str, verdict: Verdict) -> None:
    assert judge(licence, POLICY) is verdict


def test_deny_wins_over_allow_and_an_explicit_exception_entry_wins_over_its_base() -> None:
    both = LicencePolicy(allow=("MIT",), deny=("MIT",))
    assert judge("MIT", both) is Verdict.DENIED
    classpath = LicencePolicy(
        allow=("GPL-2.0-only WITH Classpath-exception-2.0",), deny=("GPL-2.0-only",)
    )
    assert judge("GPL-2.0-only WITH Classpath-exception-2.0", classpath) is Verdict.ALLOWED
    assert judge("GPL-2.0-only", classpath) is Verdict.DENIED


def test_a_policy_entry_that_is_not_an_expression_is_a_problem_and_the_gate_unknown() -> None:
    bad = LicencePolicy(allow=("MIT", "MIT AND ("), deny=("[red]",))
    assert len(policy_problems(bad)) == 2
    assert policy_problems(POLICY) == ()
    result = gate(sbom(cyclonedx(lib("a", id="MIT"))), policy=bad)
    assert result.status is GateStatus.UNKNOWN
    assert "licence policy" in result.evidence


# The gate


def test_cyclonedx_all_allowed_passes_with_facts() -> None:
    body = payload("cyclonedx-1.5.json")
    result = gate(sbom(body))
    assert result.status is GateStatus.PASS, result.evidence
    assert result.name == "licences"
    assert result.evidence == "all 5 components allowed (CycloneDX 1.5)"
    facts = dict(result.facts)
    assert facts["sbom_digest"] == digest(body)
    assert facts["sbom_format"] == "CycloneDX 1.5"
    assert (facts["components"], facts["denied"], facts["unknown"]) == ("5", "0", "0")
    assert (result.service, result.version, result.source) == ("checkout", "2.14.0", "github")


def test_spdx_with_a_denied_licence_fails_naming_the_component() -> None:
    result = gate(sbom(payload("spdx-2.3.json"), SPDX_JSON))
    assert result.status is GateStatus.FAIL
    assert "busybox@1.36.1-r15 (GPL-2.0-only)" in result.evidence
    assert "openssl" not in result.evidence
    assert dict(result.facts)["denied"] == "1"


def test_unknown_licences_make_the_gate_unknown_naming_each() -> None:
    result = gate(sbom(cyclonedx(lib("a", id="MIT"), lib("b", id="ISC"), lib("c"))))
    assert result.status is GateStatus.UNKNOWN
    assert (
        result.evidence
        == "unknown licence in 2 of 3 components: b@1.0.0 (ISC), c@1.0.0 (no licence)"
    )
    assert dict(result.facts)["unknown"] == "2"


def test_fail_wins_over_unknown() -> None:
    result = gate(sbom(cyclonedx(lib("b", id="ISC"), lib("g", expression="GPL-3.0-only"))))
    assert result.status is GateStatus.FAIL
    assert result.evidence.startswith("denied licence in 1 of 2 components: g@1.0.0 (GPL-3.0-only)")
    assert "also 1 unknown" in result.evidence


def test_offenders_are_named_up_to_a_bound() -> None:
    bad = [lib(f"gpl{i}", id="GPL-3.0-only") for i in range(12)]
    result = gate(sbom(cyclonedx(*bad)))
    assert result.status is GateStatus.FAIL
    assert "gpl4@1.0.0" in result.evidence and "gpl5@" not in result.evidence
    assert result.evidence.endswith("+7 more")


def test_no_sbom_for_the_version_is_unknown() -> None:
    other = sbom(cyclonedx(lib("a", id="MIT")), version="2.13.0")
    result = gate(other)
    assert result.status is GateStatus.UNKNOWN
    assert result.evidence == "no SBOM for checkout 2.14.0"
    assert gate().evidence == "no SBOM for checkout 2.14.0"


def test_a_fetch_problem_is_unknown_with_the_problem() -> None:
    result = gate(sbom(b"", problem="artifact sbom.json expired"))
    assert result.status is GateStatus.UNKNOWN
    assert "artifact sbom.json expired" in result.evidence


def test_a_body_that_is_not_an_sbom_is_unknown_naming_why() -> None:
    result = gate(sbom(b'{"hello": "world"}'))
    assert result.status is GateStatus.UNKNOWN
    assert "no bomFormat or spdxVersion" in result.evidence


def test_an_empty_sbom_proves_nothing() -> None:
    assert gate(sbom(cyclonedx())).status is GateStatus.UNKNOWN


def test_several_documents_are_all_judged() -> None:
    good = sbom(cyclonedx(lib("a", id="MIT")))
    bad = sbom(payload("spdx-2.3.json"), SPDX_JSON)
    result = gate(good, bad)
    assert result.status is GateStatus.FAIL
    facts = dict(result.facts)
    assert facts["components"] == "5"
    assert facts["sbom_digest"].count("sha256:") == 2
    unusable = gate(good, sbom(b"{", minutes=1))
    assert unusable.status is GateStatus.UNKNOWN  # one good SBOM does not cover a bad one


def test_the_evidence_line_stays_bounded_however_long_the_names() -> None:
    longest = [
        lib("n" * 500, "v" * 500, expression="GPL-3.0-only AND LicenseRef-" + "x" * 900)
        for _ in range(20)
    ]
    result = gate(sbom(cyclonedx(*longest)))
    assert result.status is GateStatus.FAIL
    assert len(result.evidence) < 1_200


def test_a_component_in_two_sboms_of_the_version_is_counted_and_named_once() -> None:
    twice = cyclonedx(lib("g", id="GPL-3.0-only"), lib("g", id="GPL-3.0-only"), lib("a", id="MIT"))
    result = gate(sbom(twice), sbom(twice + b" ", minutes=1))
    assert result.evidence == "denied licence in 1 of 2 components: g@1.0.0 (GPL-3.0-only)"


def test_hostile_names_reach_the_evidence_clean() -> None:
    body = cyclonedx(lib("x\x1b[2J[bold]y", id="GPL-3.0-only"))
    result = gate(sbom(body))
    assert result.status is GateStatus.FAIL
    assert "\x1b" not in result.evidence and "^[[2J[bold]y" in result.evidence


# The judgement against a brute force: expand to the ways of meeting the expression


ALLOWED, DENIED, NEITHER = (
    ("MIT", "Apache-2.0"),
    ("GPL-3.0-only", "AGPL-3.0-or-later"),
    ("ISC", "Zlib"),
)
Tree = str | tuple[str, list["Tree"]]


def trees() -> st.SearchStrategy[Tree]:
    leaf = st.sampled_from(ALLOWED + DENIED + NEITHER)
    return st.recursive(
        leaf,
        lambda inner: st.tuples(
            st.sampled_from(["AND", "OR"]), st.lists(inner, min_size=2, max_size=3)
        ),
        max_leaves=8,
    )


def spdx(tree: Tree, parent: str = "") -> str:
    """The expression as people write it: parentheses only where SPDX precedence needs them
    (an OR inside an AND), so the parser's precedence is tested too."""
    if isinstance(tree, str):
        return tree
    op, args = tree
    text = f" {op} ".join(spdx(arg, op) for arg in args)
    return f"({text})" if parent == "AND" and op == "OR" else text


def ways(tree: Tree) -> list[frozenset[str]]:
    """Each set of licences that meets the expression (its disjunctive normal form)."""
    if isinstance(tree, str):
        return [frozenset([tree])]
    op, args = tree
    if op == "OR":
        return [way for arg in args for way in ways(arg)]
    combined = [frozenset[str]()]
    for arg in args:
        combined = [a | b for a in combined for b in ways(arg)]
    return combined


@settings(max_examples=200, deadline=None)
@given(trees())
def test_the_verdict_is_what_the_ways_of_meeting_the_expression_say(tree: Tree) -> None:
    options = ways(tree)
    if any(all(lic in ALLOWED for lic in way) for way in options):
        expected = Verdict.ALLOWED
    elif all(any(lic in DENIED for lic in way) for way in options):
        expected = Verdict.DENIED
    else:
        expected = Verdict.UNKNOWN
    policy = LicencePolicy(allow=ALLOWED, deny=DENIED)
    assert judge(spdx(tree), policy) is expected, spdx(tree)
