"""Schedules follow each source's publication cadence; key-needing sources start switched off."""
from datetime import datetime, timezone

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

from se_pipeline.assets.schedules import CADENCE_CRON, cadence_cron
from se_pipeline.definitions import build_definitions
from se_pipeline.sources.registry import all_sources

# Days between two firings, per cadence (the shortest gap, over a year of firings).
EXPECTED_GAP_DAYS = {"daily": 1, "weekly": 7, "monthly": 28, "quarterly": 90}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> dg.RepositoryDefinition:
    return build_definitions(output_dir=str(tmp_path_factory.mktemp("out"))).get_repository_def()


def test_every_source_has_a_schedule_on_its_cadence(repo: dg.RepositoryDefinition) -> None:
    schedules = {s.name: s for s in repo.schedule_defs}
    for spec in all_sources().values():
        cadence = spec.cadence if spec.cadence in CADENCE_CRON else "weekly"
        schedule = schedules[f"refresh_{spec.name}_{cadence}"]
        assert schedule.job_name == f"refresh_{spec.name}"
        assert schedule.execution_timezone == "UTC"
        assert schedule.cron_schedule == cadence_cron(cadence, spec.name)
        expected = dg.DefaultScheduleStatus.STOPPED if spec.api_key_env else dg.DefaultScheduleStatus.RUNNING
        assert schedule.default_status == expected, spec.name


@pytest.mark.parametrize("cadence", sorted(CADENCE_CRON))
def test_cron_fires_at_the_cadence(cadence: str) -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    times = []
    for t in cron_string_iterator(start, cadence_cron(cadence, "coops_uk"), "UTC"):
        if t.year > 2026:
            break
        times.append(t)
    gaps = {(b - a).days for a, b in zip(times, times[1:])}
    assert min(gaps) == EXPECTED_GAP_DAYS[cadence]


def test_publish_runs_daily_and_sensors_follow_the_key_rule(repo: dg.RepositoryDefinition) -> None:
    publish = repo.get_schedule_def("publish_daily")
    assert publish.job_name == "publish" and publish.default_status == dg.DefaultScheduleStatus.RUNNING
    for spec in all_sources().values():
        sensor = repo.get_sensor_def(f"{spec.name}_upstream_changed")
        assert sensor.job_name == f"refresh_{spec.name}"
        expected = dg.DefaultSensorStatus.STOPPED if spec.api_key_env else dg.DefaultSensorStatus.RUNNING
        assert sensor.default_status == expected
    for name in ("alert_on_run_failure", "alert_on_check_failure", "release_automation"):
        assert repo.get_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING


def test_release_automation_and_no_step_retries(repo: dg.RepositoryDefinition) -> None:
    graph = repo.asset_graph
    assert graph.get(dg.AssetKey("release")).automation_condition is not None
    assert repo.get_sensor_def("release_automation").asset_selection.resolve(graph) == {dg.AssetKey("release")}
    # The HTTP client (acquire/http.py) is the one retry layer: no step is retried on top
    # of it, and every check runs in its asset's step.
    assert not [key for key, d in repo.assets_defs_by_key.items() if d.op.retry_policy]
    assert not repo.asset_checks_defs_by_key
