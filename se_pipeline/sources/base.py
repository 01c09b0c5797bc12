"""What every source adapter receives and returns.

An adapter is `parse(raw: bytes, ctx: SourceContext) -> ParseResult`; it knows its
source's format and nothing about RDF, Dagster or HTTP.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from se_pipeline.quarantine import QuarantineRecord


@dataclass(frozen=True)
class SourceContext:
    """Everything an adapter may need besides the bytes."""

    source: str
    mapping: dict[str, Any]
    url: str = ""
    encoding: str | None = None  # declared or detected encoding, if acquisition knows it
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParseResult:
    """Canonical rows (not yet normalised), records withheld, and notes for provenance."""

    frame: pd.DataFrame
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)  # e.g. detected encoding, unmapped codes


Parser = Callable[[bytes, SourceContext], ParseResult]
