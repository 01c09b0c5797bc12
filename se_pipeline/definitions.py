"""The Dagster code location `se_pipeline` (loaded by `dg dev` and `dagster dev -w workspace.yaml`).

Assets, checks, jobs, schedules and sensors come from the defs folder
(`se_pipeline/assets/`); resources are bound here from the environment
(`SE_PIPELINE_CONFIG`, `SE_PIPELINE_OUTPUT`, API keys) — see `se_pipeline/resources.py`.
"""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from se_pipeline.resources import build_resources
from se_pipeline.runtime import tune_gc

# Every process that runs assets loads this module: the CLI, `dagster dev`'s run and step
# workers (see se_pipeline/runtime.py for why and what it measured).
tune_gc()


def build_definitions(config_file: str | None = None, output_dir: str | None = None) -> dg.Definitions:
    """Definitions with resources for the given config (the CLI passes its arguments)."""
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent),
        dg.Definitions(resources=build_resources(config_file, output_dir)),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
