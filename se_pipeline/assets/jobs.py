"""Jobs: the whole publication, and one per source for re-running it alone."""
from __future__ import annotations

import os

import dagster as dg

from se_pipeline.run import executor_config
from se_pipeline.sources.registry import all_sources

#: Runs launched from the UI, a schedule or a sensor take the executor `se-pipeline run
#: --executor multiprocess` configures (a step per core at once, the memory-heavy ones one at
#: a time, step processes forked from a preloaded server); the launchpad can change it.
publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.all(),
    description="Every source -> canonical -> RDF -> SHACL gate -> release.",
    config={"execution": {"config": executor_config("multiprocess", os.cpu_count() or 2)}},
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
