"""Per-source acquisition policy: what may be fetched, from where, and what must come back.

The policy is data (built from `source.yaml` + run settings by `sources.ingest`), so one
shared `HttpClient` can serve every source while each source keeps its own allowlist,
size cap and time budget.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

EXPECTED_KINDS = ("csv", "json", "geojson", "jsonld", "turtle", "any")


@dataclass(frozen=True)
class SourcePolicy:
    """Rules for fetching one source.

    `allowed_hosts` entries are host names matched exactly (case-insensitive); an entry
    `*.example.org` also admits any subdomain. An empty allowlist admits no HTTP host at
    all: fetching from the network is opt-in per source.
    """

    allowed_hosts: list[str] = field(default_factory=list)
    expected: str = "any"
    expected_header: list[str] | None = None
    manual_export_only: bool = False
    max_bytes: int = 200_000_000
    total_budget_s: float = 300.0
    allow_private_addresses: bool = False
    file_roots: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        if self.expected not in EXPECTED_KINDS:
            raise ValueError(f"expected must be one of {EXPECTED_KINDS}, not {self.expected!r}")
        if self.max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if self.total_budget_s <= 0:
            raise ValueError("total_budget_s must be positive")

    def host_allowed(self, host: str | None) -> bool:
        """Is `host` on this source's allowlist?"""
        if not host:
            return False
        host = host.lower().rstrip(".")
        for entry in self.allowed_hosts:
            entry = entry.lower().strip().rstrip(".")
            if entry.startswith("*."):
                if host.endswith(entry[1:]):
                    return True
            elif host == entry:
                return True
        return False

    def file_allowed(self, path: Path) -> bool:
        """Is the resolved `path` inside one of the `file_roots`?"""
        return any(path.is_relative_to(root.resolve()) for root in self.file_roots)
