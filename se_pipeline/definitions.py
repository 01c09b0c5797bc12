"""The Dagster code location `se_pipeline` (loaded by `dagster dev -w workspace.yaml`,
`dg dev`, and the step processes of `se-pipeline run --executor multiprocess`).

Assets, checks, jobs, schedules and sensors come from the defs folder
(`se_pipeline/assets/`); resources are bound here from the environment
(`SE_PIPELINE_CONFIG`, `SE_PIPELINE_OUTPUT`, API keys) — see `se_pipeline/resources.py`.
"""
from __future__ import annotations

from pathlib import Path

import dagster as dg

from se_pipeline.resources import build_resources


def build_definitions(config_file: str | None = None, output_dir: str | None = None) -> dg.Definitions:
    """Definitions with resources for the given config (default: from the environment)."""
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent),
        dg.Definitions(resources=build_resources(config_file, output_dir)),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
