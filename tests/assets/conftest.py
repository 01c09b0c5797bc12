"""Helpers for the steward-flow tests: a small configuration, quiet in-process runs.

The definitions always hold every source of the registry; to keep the runs fast the
configuration switches all but two small sources off (`enabled: false`: not fetched, not
released, checks pass as "disabled").
"""
import csv
import io
import shutil
from pathlib import Path
from typing import Any, Iterator

import dagster as dg
import pytest
import yaml

from se_pipeline.sources.registry import all_sources

ENABLED = ("coops_uk", "usfwc")
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def write_config(path: Path, sources: dict[str, dict[str, Any]] | None = None,
                 http: dict[str, Any] | None = None, enabled: tuple[str, ...] = ENABLED) -> Path:
    """A config file that disables every source but `enabled`, plus per-source overrides."""
    data: dict[str, Any] = {"sources": {n: {"enabled": False} for n in all_sources() if n not in enabled}}
    for name, options in (sources or {}).items():
        data["sources"].setdefault(name, {}).update(options)
    if http:
        data["http"] = http
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def coops_uk_copy(directory: Path, keep: int | None = None) -> Path:
    """A copy of the coops_uk sample (first `keep` records only, when given)."""
    sample = all_sources()["coops_uk"].sample
    target = directory / "organisations.csv"
    if keep is None:
        shutil.copyfile(sample, target)
        return target
    rows = list(csv.reader(io.StringIO(sample.read_text(encoding="utf-8"), newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows[: keep + 1])
    target.write_text(out.getvalue(), encoding="utf-8", newline="")
    return target


def run_job(defs: dg.Definitions, job: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False, run_config=QUIET)


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()
            for m in [m.event_specific_data.materialization]}


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """`asset:check` -> passed, for every check evaluated in the run."""
    return {f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed for e in result.get_asset_check_evaluations()}


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """An in-memory instance (runs, event log, schedules): the fastest Dagster offers."""
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst
