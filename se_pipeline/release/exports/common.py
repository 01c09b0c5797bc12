"""What every export needs: each canonical row with its IRI and a stable export id."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from se_pipeline.canonical.schema import COLUMNS, LIST_COLUMNS, ensure_columns, records
from se_pipeline.identity.iri import check_base, encode_id, enterprise_iri


@dataclass(frozen=True)
class Enterprise:
    """One canonical row (plain Python values: None, str, float, list) and its identity."""

    iri: str
    identifier: str  # the IRI's path under the data base: `<source>/<encoded record id>`
    file_id: str     # file-name-safe, case-insensitively unique: `<source>--<id prefix>--<hash>`
    row: dict[str, Any]

    def get(self, field: str) -> Any:
        return self.row.get(field)

    def list(self, field: str) -> list[Any]:
        return list(self.row.get(field) or [])


def _plain(value: Any, is_list: bool) -> Any:
    if is_list:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return []
        return [v for v in (value.tolist() if hasattr(value, "tolist") else list(value)) if v is not None]
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        value = value.item()
    return value


def file_id(source: str, record_id: str, iri: str) -> str:
    """Readable and safe as a file name everywhere (only [A-Za-z0-9._~%-], no leading dot,
    bounded length); the hash of the IRI keeps ids that differ only in case, or were cut
    short, apart on case-insensitive file systems."""
    readable = f"{encode_id(source)}--{encode_id(record_id)}"[:120].replace("%", "_")
    return f"{readable}--{hashlib.sha256(iri.encode('utf-8')).hexdigest()[:12]}"


def file_id_prefix(source: str) -> str:
    """How the `file_id` of every record of `source` starts (when the source's name is
    not near the 120 characters `file_id` keeps)."""
    return f"{encode_id(source)}--".replace("%", "_")


def source_enterprises(frame: pd.DataFrame, source: str, base_iri: str) -> list[Enterprise]:
    """One source's rows (in frame order) with their IRIs."""
    base = check_base(base_iri)
    out: list[Enterprise] = []
    for rec in records(ensure_columns(frame)):
        row = {c: _plain(rec.get(c), c in LIST_COLUMNS) for c in COLUMNS}
        src = row["source"] or source
        rid = str(row["record_id"])
        iri = enterprise_iri(src, rid, base)
        # A partner's record keeps its IRI (not under our base): `<source>/<encoded IRI>`.
        identifier = iri[len(base):] if iri.startswith(base) else f"{encode_id(src)}/{encode_id(iri)}"
        out.append(Enterprise(iri, identifier, file_id(src, rid, iri), row))
    return out


def json_text(data: Any) -> str:
    """Compact JSON with `<`, `>` and `&` escaped (same values; safe to inline in HTML)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_bytes(data: Any) -> bytes:
    """`json_text` as UTF-8, with a final newline.

    Compact: `indent` would switch `json` to its pure-Python encoder (several times slower), and
    these files are read by programs.
    """
    return (json_text(data) + "\n").encode("utf-8")


def dump_json(data: Any, path: Path) -> Path:
    """Write `json_bytes(data)` to `path` (creating its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json_bytes(data))
    return path
