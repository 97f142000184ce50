"""Shared helpers for the supply-chain evaluator tests: recorded payloads and Evidence."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from cockpit.evidence_model import Evidence, EvidenceKind
from tests.fakes import T0

PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "supply"


def payload(name: str) -> bytes:
    """A recorded document from tests/fixtures/supply."""
    return (PAYLOADS / name).read_bytes()


def doc(
    kind: EvidenceKind,
    body: bytes = b"",
    *,
    media_type: str = "",
    service: str = "checkout",
    version: str = "2.14.0",
    minutes: int = 0,
    **more: Any,
) -> Evidence:
    """One fetched document about checkout 2.14.0, observed `minutes` after T0."""
    return Evidence(
        kind=kind,
        service=service,
        version=version,
        source="github",
        observed_at=T0 + timedelta(minutes=minutes),
        media_type=media_type,
        body=body,
        **more,
    )
