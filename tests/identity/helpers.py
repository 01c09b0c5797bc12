"""Synthetic canonical rows for identity tests (no real samples needed)."""
from __future__ import annotations

from typing import Any

import pandas as pd

from se_pipeline.canonical.schema import ensure_columns


def rec(source: str, record_id: str, name: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"source": source, "record_id": record_id, "name": name, "line": 1,
                           "country": kw.pop("country", "GB"), "websites": kw.pop("websites", []),
                           "identifiers": kw.pop("identifiers", []), "alternate_names": kw.pop("alternate_names", [])}
    row.update(kw)
    return row


def frames(*rows: dict[str, Any]) -> dict[str, pd.DataFrame]:
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["source"], []).append(r)
    return {s: ensure_columns(pd.DataFrame(rs)) for s, rs in by.items()}


def pairs(links: pd.DataFrame, decision: str | None = "same") -> set[tuple[str, str, str]]:
    """{(record_a, record_b, evidence)} with records sorted."""
    sel = links if decision is None else links[links["decision"] == decision]
    return {tuple(sorted((a, b))) + (e,) for a, b, e in zip(sel["record_a"], sel["record_b"], sel["evidence"])}
