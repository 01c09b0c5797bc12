"""One sqlite index per gazetteer file, built on first use and reused while the file is unchanged.

Gazetteers come as large text files (the ONS Postcode Directory is 2.7 million rows);
reading one for every run would cost more than the run. The index is a sqlite file named
after what it was built from (path, size, modification time, format), written to a temporary
name and renamed into place, so steps running in parallel never read a half-built index and a changed
file gets a fresh one.

`IndexedGazetteer` is what the gazetteers answered from such an index share (the embedded
GeoNames cities, the steward's files): the index opened on the first question, and a
locality placed only when its name is not ambiguous (`pick`).
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable, Iterable

from se_pipeline.geocode.model import GazetteerInfo, Hit, Precision
from se_pipeline.geocode.pick import pick

Row = tuple[str, str, float, float, int]   # (country, key, lat, lon, weight)

SCHEMA = """
CREATE TABLE places (country TEXT NOT NULL, key TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
                     weight INTEGER NOT NULL DEFAULT 0);
"""


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def file_fingerprint(path: Path, kind: str) -> str:
    st = path.stat()
    return fingerprint(path.resolve(), st.st_size, st.st_mtime_ns, kind)


def open_index(index_dir: Path, name: str, stamp: str, rows: Callable[[], Iterable[Row]]) -> sqlite3.Connection:
    """The read-only connection to index `<name>-<stamp>.sqlite`, building it from `rows()` if absent."""
    index_dir.mkdir(parents=True, exist_ok=True)
    target = index_dir / f"{name}-{stamp}.sqlite"
    if not target.is_file():
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        con = sqlite3.connect(tmp)
        try:
            con.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + SCHEMA)
            con.executemany("INSERT INTO places VALUES (?, ?, ?, ?, ?)", rows())
            con.execute("CREATE INDEX places_key ON places (country, key)")
            con.commit()
        finally:
            con.close()
        os.replace(tmp, target)
        for old in index_dir.glob(f"{name}-*.sqlite"):   # superseded builds of the same gazetteer
            if old != target:
                old.unlink(missing_ok=True)
    return sqlite3.connect(f"{target.as_uri()}?mode=ro", uri=True, check_same_thread=False)


def lookup(con: sqlite3.Connection, country: str, key: str) -> list[tuple[float, float, int]]:
    return con.execute("SELECT lat, lon, weight FROM places WHERE country = ? AND key = ? ORDER BY weight DESC",
                       (country, key)).fetchall()


class IndexedGazetteer(ABC):
    """A gazetteer whose rows are indexed into `index_dir` (as `index_name`) on first use."""

    info: GazetteerInfo

    def __init__(self, index_dir: Path, index_name: str) -> None:
        self.index_dir, self.index_name = index_dir, index_name
        self._con: sqlite3.Connection | None = None

    @abstractmethod
    def stamp(self) -> str:
        """What the rows are read from (`fingerprint`): a change builds a new index."""

    @abstractmethod
    def rows(self) -> Iterable[Row]:
        """Every row of the gazetteer, read from its file."""

    @property
    def con(self) -> sqlite3.Connection:
        if self._con is None:
            self._con = open_index(self.index_dir, self.index_name, self.stamp(), self.rows)
        return self._con

    def locality(self, country: str, key: str) -> Hit | None:
        """The place `key` names in `country`, unless the name is ambiguous (`pick`)."""
        point = pick(lookup(self.con, country, key))
        return Hit(point[0], point[1], Precision.LOCALITY, self.info) if point else None
