"""Each source's share of the partner exports, kept in state for the next export.

`standard.csv`, `enterprises.geojson` and `vocabs.json` are written source by source (in
name order), and a source's rows, features and concepts depend on its own good rows only.
So each export keeps, per source, under `state/_exports/<source>/`: its `standard.csv`
lines, its GeoJSON features (the text between the commas that join them), the concepts
it uses, and its profiles' SHA-256; with `made_from.json` (written last) holding what they
were made from: the code, the base IRI and the SHA-256 of the source's good rows. The next
export takes an unchanged source's share from there (its profiles hard-linked from the
previous release, whose digests must be the kept ones) instead of making its rows into
Python objects again: a 1 % change of one source re-makes that source only, and the files
are byte for byte a cold export's (`tests/release/test_exports_parts.py`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from se_pipeline.code_digest import code_digest
from se_pipeline.state import SourceState

#: Under the state directory.
FOLDER = "_exports"
STANDARD = "standard.csv"
FEATURES = "features.json"
CONCEPTS = "concepts.json"
PROFILES = "profiles.sha256"
MADE_FROM = "made_from.json"


@dataclass
class Kept:
    """One source's kept share: its folder, and its profiles as {path under the target: SHA-256}."""

    folder: Path
    profiles: dict[str, str]

    def standard(self) -> str:
        return (self.folder / STANDARD).read_bytes().decode("utf-8")  # CRLF lines, as written

    def features(self) -> str:
        return (self.folder / FEATURES).read_text(encoding="utf-8")

    def concepts(self) -> set[str]:
        return set(json.loads((self.folder / CONCEPTS).read_text(encoding="utf-8")))


@dataclass
class Recording:
    """One source's share being made (`SourceParts.record`), kept when `finish`ed."""

    folder: Path
    made_from: str
    standard: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    concepts: set[str] = field(default_factory=set)
    profiles: dict[str, str] = field(default_factory=dict)

    def finish(self) -> None:
        building = self.folder.with_name(f".{self.folder.name}-{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        (building / STANDARD).write_bytes("".join(self.standard).encode("utf-8"))
        (building / FEATURES).write_text(",".join(f for f in self.features if f), encoding="utf-8")
        (building / CONCEPTS).write_text(json.dumps(sorted(self.concepts)), encoding="utf-8")
        (building / PROFILES).write_text("".join(f"{d}  {p}\n" for p, d in self.profiles.items()), encoding="utf-8")
        (building / MADE_FROM).write_text(json.dumps({"made_from": self.made_from}), encoding="utf-8")
        shutil.rmtree(self.folder, ignore_errors=True)
        building.rename(self.folder)


class SourceParts:
    """The kept shares of the sources of one state directory (see the module doc)."""

    def __init__(self, state_dir: Path, base_iri: str) -> None:
        self.state_dir = Path(state_dir)
        self.root = self.state_dir / FOLDER
        self.base_iri = base_iri

    def made_from(self, source: str) -> str | None:
        """The code, the base IRI and the source's good rows (None: it has none)."""
        rows = SourceState.of(self.state_dir, source).good / "canonical.parquet"
        if not rows.is_file():
            return None
        h = hashlib.sha256(f"{code_digest()}\0{self.base_iri}\0{source}\0".encode("utf-8"))
        with rows.open("rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
        return h.hexdigest()

    def kept(self, source: str, made_from: str | None) -> Kept | None:
        """The source's kept share, if it was made from `made_from`."""
        folder = self.root / source
        try:
            if made_from is None or json.loads((folder / MADE_FROM).read_text(encoding="utf-8")).get("made_from") != made_from:
                return None
            with (folder / PROFILES).open(encoding="utf-8") as lines:
                profiles = dict(reversed(line.rstrip("\n").split("  ", 1)) for line in lines)
        except (OSError, ValueError):
            return None
        return Kept(folder, profiles)

    def record(self, source: str, made_from: str | None) -> Recording | None:
        """A share to fill while the source is made (None: nothing to key it by)."""
        if made_from is None:
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        return Recording(self.root / source, made_from)
