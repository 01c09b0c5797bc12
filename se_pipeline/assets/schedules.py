"""Schedules: every source on its publication cadence, and one daily `publish`.

All schedules live here, so a steward sees the whole timetable in one file:

* `refresh_<name>_<cadence>` runs job `refresh_<name>` (fetch + canonical + RDF + SHACL
  gate of that source alone) on the cadence in its `source.yaml` (`daily`, `weekly`,
  `monthly`, `quarterly`; a source without one is weekly). Sources are staggered over the
  hour (a stable minute from the name) so they do not all start at once.
* `publish_daily` runs job `publish` (every source, then `release`) once a day. Every
  fetch is conditional (ETag / Last-Modified, or the file's sha256), so an unchanged
  upstream costs one small request and is not re-processed.

* `prune_daily` runs job `prune` (`se-pipeline prune`: old releases removed by the
  `retention:` policy of the run config) after the daily publication. It is STOPPED by
  default: removing releases is the steward's decision.

Defaults: schedules of sources that need an API key (`api_key_env` in `source.yaml`) are
STOPPED — without the key they would only re-read the bundled sample; switch them on in
the UI (Automation) after setting the key. Every other schedule is RUNNING. Schedules
only fire while the Dagster daemon runs (`dagster dev` starts one).
"""
import zlib

import dagster as dg

from se_pipeline.assets.retention import prune_job
from se_pipeline.sources.registry import SourceSpec, all_sources

TIMEZONE = "UTC"
DEFAULT_CADENCE = "weekly"
# hour and day chosen to be after typical overnight upstream exports, before working hours in Europe
CADENCE_CRON = {
    "daily": "{m} 4 * * *",
    "weekly": "{m} 3 * * 1",           # Mondays
    "monthly": "{m} 3 2 * *",          # the 2nd of each month
    "quarterly": "{m} 3 2 1,4,7,10 *",  # the 2nd of January, April, July, October
}
PUBLISH_CRON = "30 5 * * *"  # after the daily per-source refreshes
PRUNE_CRON = "30 7 * * *"  # after the daily publication has had time to finish


def cadence_cron(cadence: str, name: str) -> str:
    """The cron expression for a source's cadence, at a stable minute derived from its name."""
    template = CADENCE_CRON.get(cadence, CADENCE_CRON[DEFAULT_CADENCE])
    return template.format(m=zlib.crc32(name.encode("utf-8")) % 60)


def default_status(spec: SourceSpec) -> dg.DefaultScheduleStatus:
    """Off by default where an API key is needed; on otherwise."""
    return dg.DefaultScheduleStatus.STOPPED if spec.api_key_env else dg.DefaultScheduleStatus.RUNNING


def source_schedule(spec: SourceSpec) -> dg.ScheduleDefinition:
    cadence = spec.cadence if spec.cadence in CADENCE_CRON else DEFAULT_CADENCE
    key_note = f" Needs {spec.api_key_env}; off until switched on." if spec.api_key_env else ""
    return dg.ScheduleDefinition(
        name=f"refresh_{spec.name}_{cadence}",
        job_name=f"refresh_{spec.name}",
        cron_schedule=cadence_cron(cadence, spec.name),
        execution_timezone=TIMEZONE,
        default_status=default_status(spec),
        description=f"Re-fetch and re-gate {spec.name} on its {cadence} publication cadence.{key_note}",
        tags={"source": spec.name, "cadence": cadence},
    )


publish_schedule = dg.ScheduleDefinition(
    name="publish_daily",
    job_name="publish",
    cron_schedule=PUBLISH_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every source (conditional fetches) -> RDF -> SHACL gate -> a new release, once a day.",
)

prune_schedule = dg.ScheduleDefinition(
    name="prune_daily",
    job=prune_job,
    cron_schedule=PRUNE_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Remove releases the retention policy (retention: in the run config) does not keep. Off until "
                "switched on.",
)

schedules = [source_schedule(spec) for spec in all_sources().values()] + [publish_schedule, prune_schedule]

defs = dg.Definitions(schedules=schedules)
