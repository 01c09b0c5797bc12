"""The `prune` job and its schedule: off by default, the same policy as `se-pipeline prune`,
and it waits for (or gives up on) a run holding the output folder."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from se_pipeline.definitions import build_definitions
from se_pipeline.release.prune import releases_in
from se_pipeline.run_lock import OutputBusy
from tests.release.test_prune import daily
from tests.test_run_lock import hold

IDS = [f"202612{d:02d}T050000Z" for d in range(1, 6)]


def run_prune(out: Path, **config: object) -> dg.ExecuteInProcessResult:
    job = build_definitions(output_dir=str(out)).resolve_job_def("prune")
    return job.execute_in_process(run_config={"ops": {"prune_releases": {"config": config}}}, raise_on_error=True)


def test_the_prune_schedule_is_off_by_default_and_runs_the_prune_job(tmp_path: Path) -> None:
    repo = build_definitions(output_dir=str(tmp_path)).get_repository_def()
    schedule = repo.get_schedule_def("prune_daily")
    assert schedule.job_name == "prune"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


def test_the_prune_job_applies_the_policy_and_reports_the_bytes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    daily(out, IDS)
    dry = run_prune(out, keep_last=0, keep_months=0, dry_run=True)
    assert releases_in(out / "releases") == IDS
    done = run_prune(out, keep_last=0, keep_months=0)
    assert releases_in(out / "releases") == IDS[-2:]
    for result, dry_run in ((dry, True), (done, False)):
        [event] = [e for e in result.all_events if e.is_successful_output]
        meta = {k: v.value for k, v in event.step_output_data.metadata.items()}
        assert meta["removed"] == ", ".join(IDS[:3]) and meta["kept"] == 2 and meta["dry_run"] is dry_run
        assert meta["freed_bytes"] == 3 * 1010


def test_the_prune_job_gives_up_when_a_run_holds_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    daily(out, IDS)
    holder = hold(out)
    try:
        with pytest.raises(OutputBusy, match=f"pid {holder.pid}"):
            run_prune(out, keep_last=0, keep_months=0, wait_s=0.0)
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert releases_in(out / "releases") == IDS
