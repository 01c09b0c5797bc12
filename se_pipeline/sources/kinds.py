"""The `kinds:` table of a mapping file: source code -> canonical `kind` (plain word).

`mapping.apply_mapping` maps codes to concept CURIEs only, but `kind` (enterprise /
network / support / outlet) is a plain word, so sources whose records include networks
or support organisations (wfto, ncba, usfwc) declare, beside `codes:`,

```yaml
  kinds: {column: member_type, default: enterprise, map: {Fair Trade Network: network}}
```

and `mapping.apply_mapping` applies it (adapters need not call it).
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from se_pipeline.sources.errors import MappingError

KINDS = ("enterprise", "network", "support", "outlet")


def apply_kinds(raw: pd.DataFrame, mapped: pd.DataFrame, mapping: dict[str, Any], notes: dict[str, Any], source: str) -> None:
    """Set `mapped["kind"]` from the `kinds:` table (no table: leave kind unset = enterprise).

    Unknown codes get the default and are counted in `notes["unmapped"]["kind"]`, like
    every other code table; a table naming a kind that does not exist is a MappingError.
    """
    spec = mapping.get("kinds")
    if not spec:
        return
    column = spec["column"]
    if column not in raw.columns:
        raise MappingError(source, f"kinds column {column!r} not in data")
    table = {str(k).strip().lower(): str(v) for k, v in (spec.get("map") or {}).items()}
    default = str(spec.get("default", "enterprise"))
    bad = (set(table.values()) | {default}) - set(KINDS)
    if bad:
        raise MappingError(source, f"kinds table uses unknown kind(s) {sorted(bad)}; known: {KINDS}")
    missing = {m.lower() for m in mapping.get("missing", ["", "n/a", "null", "none"])}
    unmapped: Counter[str] = Counter()
    kinds: list[str] = []
    for cell in raw[column].tolist():
        code = cell.strip() if isinstance(cell, str) else ""
        if code.lower() in missing:
            kinds.append(default)
        elif code.lower() in table:
            kinds.append(table[code.lower()])
        else:
            unmapped[code] += 1
            kinds.append(default)
    mapped["kind"] = pd.Series(kinds, index=mapped.index, dtype="object")
    if unmapped:
        notes.setdefault("unmapped", {})["kind"] = dict(unmapped.most_common())
