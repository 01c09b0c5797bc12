"""Partner exports written into every release beside the RDF.

Partners who do not consume RDF still get the data in the formats their tools read:

* `standard.csv` + `vocabs.json` — the SSE initiative standard CSV v4 and the vocabulary
  file a Mykomap map loads (Digital Commons / Mykomap maps);
* `murmurations/<id>.json` — one Murmurations profile (`organizations_schema-v1.0.0`) per
  enterprise, linking back to our IRI;
* `enterprises.geojson` — located enterprises as GeoJSON points.

Everything is derived from each source's last good canonical rows; identifiers derive from
our IRIs, so they are as stable as the IRIs.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import pandas as pd

from se_pipeline.files import save_digests
from se_pipeline.identity.iri import check_base
from se_pipeline.release.digest_files import SortedDigests
from se_pipeline.release.exports.common import file_id_prefix, source_enterprises
from se_pipeline.release.exports.geojson import GeoJsonWriter
from se_pipeline.release.exports.murmurations import Previous, write_profiles
from se_pipeline.release.exports.parts import Kept, SourceParts
from se_pipeline.release.exports.standard_csv import STANDARD_COLUMNS, StandardCsvWriter
from se_pipeline.release.exports.vocabs import used_concepts, write_vocabs

__all__ = ["STANDARD_COLUMNS", "write_partner_exports"]

#: The profiles' folder in a release.
PROFILES = "murmurations"
#: Rows of one source made into Python objects at once (larger sources go in slices).
ROWS_AT_ONCE = 50_000


def write_partner_exports(frames: Mapping[str, pd.DataFrame], target_dir: Path, base_iri: str,
                          digests: Path | None = None, *, read_only: bool = False,
                          previous: Path | None = None, previous_digests: Path | None = None,
                          stats: dict[str, int] | None = None, parts: SourceParts | None = None) -> int:
    """Write every partner export for `frames` (source name -> canonical rows) under
    `target_dir`; returns how many files were written (the `murmurations/` profiles
    included). `digests`, a file, receives the SHA-256 of each profile (one small file per
    enterprise) as `sha256sum` lines, paths relative to `target_dir` (`files.read_digests`
    reads them), and `read_only` creates those profiles read-only, as a release's files end up.

    Sources are taken one at a time, in name order, and `ROWS_AT_ONCE` rows of one at a
    time are made into Python objects, written to every export, and their digests appended
    to `digests`, before the next are made. At 10^6 enterprises the rows of all sources
    would not fit the memory budget, and holding every profile's path and digest until the
    end would add to the exports' peak (benchmarks/README.md), which can meet the matcher's
    when both run at once.

    `previous` (a release folder) and `previous_digests` (its profiles' digests, in
    `digest_files.path_order`, paths relative to the release) let a read-only profile
    equal to the previous release's be a hard link to it; `stats` receives how many
    profiles were linked (`linked`) and written (`written`). With `parts` too (the kept
    per-source shares, `exports.parts`), a source whose share was kept from the same rows
    is not made again: its lines are copied and its profiles linked from `previous`
    (`stats`: `sources_kept`); every source made is kept for the next export.
    """
    target_dir = Path(target_dir).absolute()  # the digests' paths are made relative to it
    target_dir.mkdir(parents=True, exist_ok=True)
    base = check_base(base_iri)
    used: set[str] = set()
    profiles = linked = kept_sources = 0
    earlier = SortedDigests(previous_digests if previous is not None else None)
    with StandardCsvWriter(target_dir / "standard.csv") as table, \
            GeoJsonWriter(target_dir / "enterprises.geojson") as points:
        for source in sorted(frames):
            prefix = f"{PROFILES}/{file_id_prefix(source)}"
            known = Previous(previous / PROFILES, {p[len(PROFILES) + 1:]: d for p, d in earlier.under(prefix).items()}) \
                if previous is not None else None
            made_from = parts.made_from(source) if parts is not None else None
            kept = parts.kept(source, made_from) if parts is not None and known is not None and read_only else None
            if kept is not None and _link_kept(kept, known, target_dir, digests):
                table.add(kept.standard())
                points.add(kept.features())
                used |= kept.concepts()
                profiles += len(kept.profiles)
                linked += len(kept.profiles)
                kept_sources += 1
                continue
            recording = parts.record(source, made_from) if parts is not None else None
            frame = frames[source]
            for start in range(0, len(frame), ROWS_AT_ONCE):
                rows = source_enterprises(frame.iloc[start:start + ROWS_AT_ONCE], source, base)
                lines, features = table.write(rows), points.write(rows)
                sums: dict[str, str] = {}
                profiles += len(write_profiles(rows, target_dir / PROFILES, base, sums, read_only=read_only,
                                               previous=known))
                if digests is not None:
                    save_digests(sums, digests, append=True, under=target_dir)
                concepts = used_concepts(rows)
                used |= concepts
                if recording is not None:
                    recording.standard.append(lines)
                    recording.features.append(features)
                    recording.concepts |= concepts
                    recording.profiles.update((_relative(p, target_dir), d) for p, d in sums.items())
                del rows
            del frame
            if recording is not None:
                recording.finish()
            linked += known.linked if known is not None else 0
    earlier.close()
    if stats is not None:
        stats.update(linked=linked, written=profiles - linked, sources_kept=kept_sources)
    write_vocabs(used, target_dir / "vocabs.json")
    return profiles + 3  # standard.csv, enterprises.geojson, vocabs.json


def _relative(path: str, folder: Path) -> str:
    return Path(path).relative_to(folder).as_posix()


def _link_kept(kept: Kept, known: Previous, target_dir: Path, digests: Path | None) -> bool:
    """Hard-link a kept source's profiles from the previous release, if every one of them
    is there with the kept digest (else link none: the source is made again)."""
    names = {path: path[len(PROFILES) + 1:] for path in kept.profiles}
    if any(known.digests.get(name) != kept.profiles[path] for path, name in names.items()):
        return False
    folder = target_dir / PROFILES
    folder.mkdir(parents=True, exist_ok=True)
    done: list[Path] = []
    try:
        for name in names.values():
            os.link(known.folder / name, folder / name)
            done.append(folder / name)
    except OSError:  # gone, or another file system
        for path in done:
            path.unlink()
        return False
    if digests is not None:
        with digests.open("a", encoding="utf-8") as out:
            out.writelines(f"{d}  {p}\n" for p, d in kept.profiles.items())
    return True
