"""The `prune` job: `se-pipeline prune` (`release/prune.py`) from Dagster, for its schedule.

An op job, not an asset: removing old releases makes no data anyone depends on. It takes
the output folder's run lock like the command (waiting up to `wait_s` for a run from
the command line to finish); the policy itself never removes `latest`, the release
before it or one being published, so it is safe beside a `publish` run of Dagster's own.
"""
from typing import Optional

import dagster as dg

from se_pipeline.release.prune import prune
from se_pipeline.resources import SettingsResource
from se_pipeline.run_lock import run_lock


class PruneConfig(dg.Config):
    """Overrides of the run config's `retention:` for one run (None: the configured value)."""

    keep_last: Optional[int] = None
    keep_months: Optional[int] = None
    dry_run: bool = False
    wait_s: float = 1800.0
    """How long to wait for a run that holds the output folder (a cold run at 10^6 takes minutes)."""


@dg.op(description="Remove releases the retention policy does not keep; report the bytes freed.")
def prune_releases(context: dg.OpExecutionContext, config: PruneConfig, settings: SettingsResource) -> None:
    run_settings = settings.load()
    keep_last = run_settings.retention.keep_last if config.keep_last is None else config.keep_last
    keep_months = run_settings.retention.keep_months if config.keep_months is None else config.keep_months
    with run_lock(run_settings.output_dir, wait_s=config.wait_s, on_wait=context.log.info):
        result = prune(run_settings.output_dir, keep_last=keep_last, keep_months=keep_months, dry_run=config.dry_run)
    for line in result.lines():
        context.log.info(line)
    context.add_output_metadata({
        "removed": ", ".join(result.removed) or "none", "kept": len(result.kept),
        "freed_bytes": result.freed.bytes, "freed_disk_bytes": result.freed.disk_bytes, "dry_run": config.dry_run,
    })


@dg.job(name="prune", description="Remove old releases: keep the last N, one per month for M months, "
        "always latest and the release before it (retention: in the run config).")
def prune_job() -> None:
    prune_releases()


defs = dg.Definitions(jobs=[prune_job])
