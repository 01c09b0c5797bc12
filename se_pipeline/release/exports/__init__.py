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
from typing import Iterable

import pandas as pd

from se_pipeline.identity.iri import check_base
from se_pipeline.release.exports.common import enterprises
from se_pipeline.release.exports.geojson import write_geojson
from se_pipeline.release.exports.murmurations import write_profiles
from se_pipeline.release.exports.standard_csv import STANDARD_COLUMNS, write_standard_csv
from se_pipeline.release.exports.vocabs import write_vocabs

__all__ = ["STANDARD_COLUMNS", "load_good_frames", "write_partner_exports"]


def load_good_frames(state_dir: Path, sources: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Each source's last good canonical rows (`state/<source>/good/canonical.parquet`);
    sources without a good copy are left out (the release reports them already)."""
    from se_pipeline.state import SourceState, read_frame

    frames = {}
    for name in sources:
        path = SourceState.of(Path(state_dir), name).good / "canonical.parquet"
        if path.is_file():
            frames[name] = read_frame(path)
    return frames


def write_partner_exports(frames: dict[str, pd.DataFrame], target_dir: Path, base_iri: str,
                          digests: dict[str, str] | None = None) -> list[Path]:
    """Write every partner export for `frames` (source name -> canonical rows) under
    `target_dir`; returns the files written (the `murmurations/` profiles included).
    `digests` receives the SHA-256 of each profile (one small file per enterprise)."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    rows = enterprises(frames, base_iri)
    written = [write_standard_csv(rows, target_dir / "standard.csv")]
    written.append(write_vocabs(rows, target_dir / "vocabs.json"))
    written += write_profiles(rows, target_dir / "murmurations", check_base(base_iri),
                              {} if digests is None else digests)
    written.append(write_geojson(rows, target_dir / "enterprises.geojson"))
    return written
