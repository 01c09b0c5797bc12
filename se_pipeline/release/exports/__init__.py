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

from pathlib import Path
from typing import Mapping

import pandas as pd

from se_pipeline.identity.iri import check_base
from se_pipeline.release.exports.common import source_enterprises
from se_pipeline.release.exports.geojson import GeoJsonWriter
from se_pipeline.release.exports.murmurations import write_profiles
from se_pipeline.release.exports.standard_csv import STANDARD_COLUMNS, StandardCsvWriter
from se_pipeline.release.exports.vocabs import used_concepts, write_vocabs

__all__ = ["STANDARD_COLUMNS", "write_partner_exports"]


def write_partner_exports(frames: Mapping[str, pd.DataFrame], target_dir: Path, base_iri: str,
                          digests: dict[str, str] | None = None, *, read_only: bool = False) -> list[Path]:
    """Write every partner export for `frames` (source name -> canonical rows) under
    `target_dir`; returns the files written (the `murmurations/` profiles included).
    `digests` receives the SHA-256 of each profile (one small file per enterprise), and
    `read_only` creates those profiles read-only, as a release's files end up.

    Sources are taken one at a time, in name order, and each is written to every export
    before the next is read: the rows of 10^6 enterprises as Python objects would not
    fit the memory budget, one source's do.
    """
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    base = check_base(base_iri)
    sums = {} if digests is None else digests
    used: set[str] = set()
    profiles: list[Path] = []
    with StandardCsvWriter(target_dir / "standard.csv") as table, \
            GeoJsonWriter(target_dir / "enterprises.geojson") as points:
        for source in sorted(frames):
            rows = source_enterprises(frames[source], source, base)
            table.write(rows)
            points.write(rows)
            profiles += write_profiles(rows, target_dir / "murmurations", base, sums, read_only=read_only)
            used |= used_concepts(rows)
    return [table.path, write_vocabs(used, target_dir / "vocabs.json"), *profiles, points.path]
