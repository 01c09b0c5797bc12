"""Fetch provenance: what was fetched, from where, when, and what came back.

A `FetchRecord` travels with the bytes (stored beside them in the raw store and in
`state/<source>/run/fetch.json`), so a release can say exactly which upstream bytes it
was built from, and the next run can make a conditional request.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any


def utc_now_iso() -> str:
    """Current UTC time as ISO 8601 with a `Z` suffix (second precision)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class FetchRecord:
    """Provenance of one fetch. `status` is None for local files (no HTTP exchange).

    `not_modified` means the bytes are identical to the previous fetch (a 304, or the same
    sha256), so callers may skip re-processing; `from_cache` means the bytes were served
    from the raw store rather than transferred.
    """

    url: str
    final_url: str
    fetched_at: str
    status: int | None
    etag: str | None
    last_modified: str | None
    sha256: str
    byte_size: int
    content_type: str | None
    encoding: str | None
    not_modified: bool = False
    from_cache: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FetchRecord":
        """Build from a dict; unknown keys (written by newer code) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "FetchRecord":
        return cls.from_dict(json.loads(text))
