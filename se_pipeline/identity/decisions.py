"""The steward's curated identity decisions (`identity/decisions.yaml`).

The matcher is statistics; a steward who has checked two records knows better. Every
entry says whether two records denote the same enterprise, who decided and when:

```yaml
- a: coops_uk:R000004                      # `source:record_id` or a full enterprise IRI
  b: https://w3id.org/se-pipeline/id/dotcoop/ppt27501695
  same: true
  by: Jane Steward
  date: 2024-05-01
  note: Midcounties trades as "Midcounties Cooperative" on .coop
```

Curated decisions always win: `same: true` adds a link (evidence "curated", score 1.0);
`same: false` removes the matcher's link and forbids joining the two records through a
chain of other links. The file is versioned with the code, so every change has history.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from se_pipeline.identity.errors import DecisionsError
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.namespaces import DEFAULT_DATA_BASE

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "identity" / "decisions.yaml"
_KEYS = {"a", "b", "same", "by", "date", "note"}
_REQUIRED = ("a", "b", "same", "by", "date")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Decision:
    a: str  # enterprise IRI
    b: str  # enterprise IRI
    same: bool
    by: str
    date: str  # YYYY-MM-DD
    note: str = ""

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a, self.b) if self.a <= self.b else (self.b, self.a)


@dataclass(frozen=True)
class Decisions:
    """All curated decisions, indexed by sorted IRI pair."""

    items: tuple[Decision, ...] = ()
    by_pair: dict[tuple[str, str], Decision] = field(default_factory=dict)

    @classmethod
    def of(cls, items: list[Decision]) -> "Decisions":
        return cls(tuple(items), {d.pair: d for d in items})

    @property
    def same(self) -> list[Decision]:
        return [d for d in self.items if d.same]

    @property
    def different(self) -> list[Decision]:
        return [d for d in self.items if not d.same]

    def get(self, a: str, b: str) -> Decision | None:
        return self.by_pair.get((a, b) if a <= b else (b, a))


NO_DECISIONS = Decisions()


def resolve_ref(ref: str, base: str = DEFAULT_DATA_BASE) -> str:
    """`source:record_id` -> enterprise IRI; a full http(s) IRI is returned unchanged."""
    if ref.startswith(("http://", "https://")):
        return ref
    source, sep, rid = ref.partition(":")
    if not sep or not source or not rid:
        raise ValueError(f"expected `source:record_id` or an IRI, got {ref!r}")
    return enterprise_iri(source, rid, base)


def _entry(raw: Any, n: int, path: str, base: str) -> Decision:
    if not isinstance(raw, dict):
        raise DecisionsError(path, n, f"entry must be a mapping, got {type(raw).__name__}")
    unknown = set(raw) - _KEYS
    if unknown:
        raise DecisionsError(path, n, f"unknown keys {sorted(unknown)}; allowed {sorted(_KEYS)}")
    for key in _REQUIRED:
        if raw.get(key) in (None, ""):
            raise DecisionsError(path, n, f"missing {key!r}")
    if not isinstance(raw["same"], bool):
        raise DecisionsError(path, n, f"'same' must be true or false, got {raw['same']!r}")
    date = raw["date"]
    if isinstance(date, dt.date):
        date = date.isoformat()
    date = str(date)
    try:
        if not _DATE.match(date):
            raise ValueError
        dt.date.fromisoformat(date)
    except ValueError:
        raise DecisionsError(path, n, f"'date' must be YYYY-MM-DD, got {raw['date']!r}") from None
    try:
        a, b = resolve_ref(str(raw["a"]), base), resolve_ref(str(raw["b"]), base)
    except ValueError as e:
        raise DecisionsError(path, n, str(e)) from None
    if a == b:
        raise DecisionsError(path, n, "'a' and 'b' are the same record")
    return Decision(a, b, raw["same"], str(raw["by"]), date, str(raw.get("note") or ""))


def parse_decisions(data: Any, path: str = "<decisions>", base: str = DEFAULT_DATA_BASE) -> Decisions:
    """Validate already-loaded YAML (a list of entries, or None for an empty file)."""
    if data is None:
        return NO_DECISIONS
    if not isinstance(data, list):
        raise DecisionsError(path, 0, "the file must be a YAML list of decisions")
    items = [_entry(raw, n, path, base) for n, raw in enumerate(data, start=1)]
    seen: dict[tuple[str, str], tuple[int, Decision]] = {}
    for n, d in enumerate(items, start=1):
        if d.pair in seen:
            first_n, first = seen[d.pair]
            verb = "contradicts" if first.same != d.same else "repeats"
            raise DecisionsError(path, n, f"{verb} entry {first_n} for the same pair")
        seen[d.pair] = (n, d)
    return Decisions.of(items)


def load_decisions(path: Path = DEFAULT_PATH, base: str = DEFAULT_DATA_BASE) -> Decisions:
    """Load and validate the decisions file; a missing file means no decisions."""
    if not path.is_file():
        return NO_DECISIONS
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise DecisionsError(str(path), 0, f"not valid YAML: {e}") from None
    return parse_decisions(data, str(path), base)
