"""Per-source state kept between runs: this run's work and the last good copy.

```
state/<source>/run/    status.json, fetch.json, canonical.parquet, quarantine.csv, dropped.csv, graph.nt, gate.json
state/<source>/good/   the same files, promoted only when the SHACL gate passed
state/<source>/raw/    content-addressed raw bytes of every fetch, with provenance
state/<source>/approved.json   a steward's approval of a held-back record count
```

The release is built from `good/` only, so a source that fails, lies or shrinks never
replaces data that passed the gate.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import pandas as pd
import pyarrow.parquet as pq

from se_pipeline.canonical.schema import COLUMNS, ensure_columns


@dataclass(frozen=True)
class SourceState:
    root: Path
    source: str

    @classmethod
    def of(cls, state_dir: Path, source: str) -> "SourceState":
        return cls(state_dir / source, source)

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def good(self) -> Path:
        return self.root / "good"

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def approval(self) -> Path:
        return self.root / "approved.json"

    def has_good(self) -> bool:
        return (self.good / "status.json").is_file()

    def promote(self) -> None:
        """Replace good/ by run/ (rename-based, so a crash leaves one of them whole)."""
        tmp = self.root / "good.new"
        old = self.root / "good.old"
        for p in (tmp, old):
            if p.exists():
                shutil.rmtree(p)
        shutil.copytree(self.run, tmp)
        if self.good.exists():
            os.replace(self.good, old)
        os.replace(tmp, self.good)
        if old.exists():
            shutil.rmtree(old)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_frame(path: Path, frame: pd.DataFrame) -> None:
    """Canonical frames travel between assets as Parquet files, never pickles."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    ensure_columns(frame).to_parquet(tmp, index=False)
    os.replace(tmp, path)


def read_frame(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A canonical frame (list cells as Python lists); only `columns` when given: the
    matcher needs 11 of the table's columns, and at 10^6 rows the others cost gigabytes."""
    frame = pd.read_parquet(path, columns=list(columns) if columns else None)
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = [v.tolist() if hasattr(v, "tolist") and not isinstance(v, str) else v for v in frame[col]]
    return frame[list(columns or COLUMNS)]


class GoodFrames(Mapping[str, pd.DataFrame]):
    """Each source's last good canonical rows (`state/<source>/good/canonical.parquet`;
    only `columns` when given), read when asked for and not kept: a reader that takes one
    source at a time (the partner exports, the matcher's keys) holds one source's rows,
    not every source's beside its own peak. Sources without a good copy are left out."""

    def __init__(self, state_dir: Path, sources: Iterable[str], columns: Sequence[str] | None = None) -> None:
        paths = ((name, SourceState.of(Path(state_dir), name).good / "canonical.parquet") for name in sources)
        self._paths = {name: path for name, path in paths if path.is_file()}
        self._columns = columns

    def __getitem__(self, source: str) -> pd.DataFrame:
        return read_frame(self._paths[source], columns=self._columns)

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def rows(self) -> int:
        """Rows over all the sources, from the Parquet footers (no frame is read)."""
        return sum(frame_rows(path) for path in self._paths.values())


def frame_rows(path: Path) -> int:
    """Rows of a stored frame, from the Parquet footer (nothing else is read)."""
    return pq.read_metadata(path).num_rows
