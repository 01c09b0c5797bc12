"""Jobs: the whole publication, and one per source for re-running it alone."""
from __future__ import annotations

import dagster as dg

from se_pipeline.sources.registry import all_sources

publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.all(),
    description="Every source -> canonical -> RDF -> SHACL gate -> release.",
)

source_jobs = [
    dg.define_asset_job(
        f"refresh_{name}",
        selection=dg.AssetSelection.assets(name, f"{name}_graph"),
        description=f"Re-fetch and re-gate {name} alone (the next release picks it up).",
    )
    for name in all_sources()
]

defs = dg.Definitions(jobs=[publish_job, *source_jobs])
