"""SBOMs as the licence gate reads them: CycloneDX JSON (1.4-1.7) and SPDX JSON (2.2, 2.3).

Only what the gate judges is kept: each component's name, version, purl and licence (an
SPDX expression, "" when the document gives none). The document's own subject (CycloneDX
`metadata.component`, the packages an SPDX document DESCRIBES) is the product itself, not
a dependency, and is left out. Work is bounded: more than 50,000 components or CycloneDX
components nested deeper than 32 make the document unusable rather than slow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cockpit.evidence_model import CYCLONEDX_JSON, SPDX_JSON
from cockpit.supply import EvidenceError
from cockpit.supply.documents import digest, field, items, load_json, text

MAX_COMPONENTS = 50_000
MAX_DEPTH = 32
CYCLONEDX_VERSIONS = ("1.4", "1.5", "1.6", "1.7")
SPDX_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
# Media types a connector may name for an SBOM; "" and plain JSON are read by content.
_READABLE = (CYCLONEDX_JSON, SPDX_JSON, "application/json", "")
_NO_LICENCE = ("", "NOASSERTION", "NONE")  # SPDX: not looked at / known to have none
LICENCE_LIMIT = 1_000  # characters of one component's expression; longer is unusable


@dataclass(frozen=True, slots=True)
class Component:
    """One dependency and the licence its SBOM gives it (clean text)."""

    name: str
    version: str
    purl: str
    licence: str  # an SPDX expression, or "" when the SBOM gives none

    @property
    def label(self) -> str:
        """`name@version`, as the gate names it."""
        return f"{self.name}@{self.version}" if self.version else self.name or "(unnamed)"


@dataclass(frozen=True, slots=True)
class Sbom:
    """One SBOM document: which format, and the components it lists."""

    format: str  # "CycloneDX" or "SPDX"
    spec_version: str
    digest: str  # "sha256:<hex>" of the document as fetched
    components: tuple[Component, ...]


def parse_sbom(body: bytes, media_type: str = "") -> Sbom:
    """The components of a CycloneDX or SPDX JSON document; EvidenceError when unusable."""
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind not in _READABLE:
        raise EvidenceError(f"media type {text(media_type)!r} is not a JSON SBOM")
    doc = load_json(body, "the SBOM")
    if not isinstance(doc, dict):
        raise EvidenceError(f"the SBOM is a JSON {type(doc).__name__}, not an object")
    if "bomFormat" in doc:
        return _cyclonedx(doc, digest(body))
    if "spdxVersion" in doc:
        return _spdx(doc, digest(body))
    raise EvidenceError("not a CycloneDX or SPDX document (no bomFormat or spdxVersion)")


def _cyclonedx(doc: dict[str, Any], sha: str) -> Sbom:
    if doc.get("bomFormat") != "CycloneDX":
        raise EvidenceError(f"bomFormat is {field(doc, 'bomFormat')!r}, not 'CycloneDX'")
    spec = doc.get("specVersion")
    if spec not in CYCLONEDX_VERSIONS:
        raise EvidenceError(
            f"CycloneDX specVersion {text(spec)!r} is not one of {', '.join(CYCLONEDX_VERSIONS)}"
        )
    found: list[Component] = []
    # Depth-first with an explicit stack: nesting is bounded here, never by recursion.
    stack: list[tuple[list[Any], int]] = [(items(doc, "components", "the SBOM"), 1)]
    while stack:
        level, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise EvidenceError(f"components nest deeper than {MAX_DEPTH} levels")
        for raw in level:
            if not isinstance(raw, dict):
                raise EvidenceError(f"component {len(found) + 1} is not an object")
            found.append(
                Component(
                    name=field(raw, "name"),
                    version=field(raw, "version"),
                    purl=field(raw, "purl"),
                    licence=_cyclonedx_licence(raw),
                )
            )
            if len(found) > MAX_COMPONENTS:
                raise EvidenceError(f"more than {MAX_COMPONENTS:,} components")
            nested = items(raw, "components", f"component {text(raw.get('name'))!r}")
            if nested:
                stack.append((nested, depth + 1))
    return Sbom("CycloneDX", str(spec), sha, tuple(found))


def _cyclonedx_licence(component: dict[str, Any]) -> str:
    """The component's licences as one expression: several entries must all be met (AND).

    CycloneDX lists a component's licences as a choice only inside an `expression`; a
    list of separate entries gives no operator, so it is read the strict way.
    """
    parts: list[str] = []
    for entry in items(component, "licenses", f"component {text(component.get('name'))!r}"):
        if not isinstance(entry, dict):
            raise EvidenceError(f"a licence of {text(component.get('name'))!r} is not an object")
        if isinstance(entry.get("expression"), str):
            part = entry["expression"]
        else:
            lic = entry.get("license")
            part = ""
            if isinstance(lic, dict):
                ident, name = lic.get("id"), lic.get("name")
                part = (
                    ident
                    if isinstance(ident, str) and ident
                    else name
                    if isinstance(name, str)
                    else ""
                )
        part = part.strip()
        if part:
            parts.append(part)
    return _joined(parts)


def _joined(parts: list[str]) -> str:
    if len(parts) == 1:
        return _bounded(parts[0])
    return _bounded(" AND ".join(f"({p})" for p in parts))


def _bounded(expression: str) -> str:
    # Clean text, shown as it is judged: a control character becomes visible notation and
    # a licence past the limit ends in "…", either of which the expression parser refuses,
    # so such a licence is unknown, never silently allowed.
    return text(expression, limit=LICENCE_LIMIT)


def _spdx(doc: dict[str, Any], sha: str) -> Sbom:
    spec = doc.get("spdxVersion")
    if spec not in SPDX_VERSIONS:
        raise EvidenceError(f"spdxVersion {text(spec)!r} is not one of {', '.join(SPDX_VERSIONS)}")
    packages = items(doc, "packages", "the SBOM")
    if len(packages) > MAX_COMPONENTS:
        raise EvidenceError(f"more than {MAX_COMPONENTS:,} packages")
    described = _described(doc)
    found: list[Component] = []
    for n, raw in enumerate(packages, 1):
        if not isinstance(raw, dict):
            raise EvidenceError(f"package {n} is not an object")
        if isinstance(raw.get("SPDXID"), str) and raw["SPDXID"] in described:
            continue
        found.append(
            Component(
                name=field(raw, "name"),
                version=field(raw, "versionInfo"),
                purl=_purl(raw),
                licence=_spdx_licence(raw),
            )
        )
    return Sbom("SPDX", str(spec).removeprefix("SPDX-"), sha, tuple(found))


def _described(doc: dict[str, Any]) -> set[str]:
    """The SPDX ids the document describes (its subject), by either way of saying so."""
    ids = {d for d in items(doc, "documentDescribes", "the SBOM") if isinstance(d, str)}
    for rel in items(doc, "relationships", "the SBOM"):
        if (
            isinstance(rel, dict)
            and rel.get("spdxElementId") == "SPDXRef-DOCUMENT"
            and rel.get("relationshipType") == "DESCRIBES"
            and isinstance(rel.get("relatedSpdxElement"), str)
        ):
            ids.add(rel["relatedSpdxElement"])
    return ids


def _spdx_licence(package: dict[str, Any]) -> str:
    """The concluded licence where someone concluded one, else the declared one."""
    for key in ("licenseConcluded", "licenseDeclared"):
        value = package.get(key)
        if isinstance(value, str) and value.strip() not in _NO_LICENCE:
            return _bounded(value.strip())
    return ""


def _purl(package: dict[str, Any]) -> str:
    for ref in items(package, "externalRefs", f"package {text(package.get('name'))!r}"):
        # 2.3 spells the category PACKAGE-MANAGER; early 2.2 schemas PACKAGE_MANAGER.
        if isinstance(ref, dict) and ref.get("referenceType") == "purl":
            return field(ref, "referenceLocator")
    return ""
