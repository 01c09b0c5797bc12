"""`se-pipeline run`: the `publish` job through one of Dagster's own executors, recorded
in the Dagster instance that `make dev` opens.

* `in_process` (the default): every step in this process, one at a time.
* `multiprocess`: each step in its own process, at most `max_concurrent` at once (every
  source's steps are independent of every other source's, so two cores work at once);
  the step processes fork from a server that has imported the code location once.

On a cluster the same job runs under the Kubernetes or Celery executor from the Dagster
deployment (deploy/k8s-executor-example.yaml), not from this command.

The instance is `$DAGSTER_HOME` when set, else `<output>/.dagster`: the folder `make dev`
gives `dagster dev` for the default output, so a steward sees in the UI the runs,
materialisations, check results and metadata of the runs made from the command line.
"""
from __future__ import annotations

import logging
import os
import pkgutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import dagster as dg

from se_pipeline.settings import Settings
from se_pipeline.sources.registry import all_sources

if TYPE_CHECKING:
    from dagster_shared.error import SerializableErrorInfo

EXECUTORS = ("in_process", "multiprocess")
#: The op tag of steps that hold a large share of the release in memory (the identity
#: links, the partner exports, the release): under the multiprocess executor at most one
#: of them runs at a time (`tag_concurrency_limits`), so two of them never add up beside
#: each other (at 10^6 enterprises, links and exports at once took the process tree past
#: 4 GiB: benchmarks/README.md, "2026-12-05").
MEMORY_TAG = "se-pipeline/memory"
LARGE_MEMORY = {MEMORY_TAG: "large"}
RELEASE = dg.AssetKey("release")
#: Dagster's console log shows errors only: the CLI prints its own summary of the run.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass
class Outcome:
    """What a run did: whether every step succeeded, the lines to show the user (checks
    that did not pass, failed steps), the release's metadata if one was made, and the run
    id under which the Dagster UI shows it."""

    success: bool
    problems: list[str] = field(default_factory=list)
    release: dict[str, Any] | None = None
    run_id: str = ""


#: The instance configuration written into a new `<output>/.dagster`: Dagster's defaults
#: (SQLite storage in the folder), without usage statistics sent to Dagster Labs and
#: without the UI's newsletter sign-up dialog over the steward's first page.
INSTANCE_CONFIG = ("# Written by se-pipeline run (see se_pipeline/run.py); edit freely.\n"
                   "telemetry:\n  enabled: false\nnux:\n  enabled: false\n")


def dagster_home(settings: Settings) -> Path:
    """The Dagster instance folder of runs made for `settings`: `$DAGSTER_HOME`, else
    `<output>/.dagster` (created with `INSTANCE_CONFIG` if missing)."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"]).resolve()
    home = settings.output_dir / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG, encoding="utf-8")
    return home


def publish_job(config_file: str | None = None, output_dir: str | None = None) -> dg.JobDefinition:
    """The `publish` job with its resources bound for `config_file` and `output_dir`: what
    every step process of the multiprocess executor re-creates (`dg.build_reconstructable_job`)."""
    from se_pipeline.definitions import build_definitions

    return build_definitions(config_file, output_dir).resolve_job_def("publish")


def enabled_assets(job: dg.JobDefinition, settings: Settings) -> list[dg.AssetKey]:
    """The job's assets without those of sources switched off in the configuration: their
    steps would only record that they are off (the release leaves them out either way),
    at the cost of a step each."""
    off = {dg.AssetKey(key) for name in all_sources() if not settings.enabled(name)
           for key in (name, f"{name}_graph")}
    return sorted((k for k in job.asset_layer.selected_asset_keys if k not in off), key=lambda k: k.to_user_string())


#: What a step process imports besides the code location, preloaded with it: the
#: instance's storage (opened by every step), Arrow's datasets (the sources' state) and
#: this module (the job's reconstructor). Each would otherwise be imported again by
#: every step (benchmarks/README.md, "The multiprocess executor's fixed cost"). A
#: module that no longer exists is skipped by the fork server.
STEP_PROCESS_MODULES = ("dagster._core.storage.base_storage", "dagster._core.storage.sqlite_storage",
                        "dagster._core.secrets.env_file", "pyarrow.dataset", "upath.core", "tomlkit", __name__)


def code_location_modules() -> list[str]:
    """The modules `se_pipeline.definitions` loads: itself and the defs folder's."""
    from se_pipeline import assets

    return ["se_pipeline.definitions", *(f"{assets.__name__}.{m.name}" for m in pkgutil.iter_modules(assets.__path__))]


def executor_config(executor: str, max_concurrent: int) -> dict[str, Any]:
    """Run config choosing one of the job's executors (`multi_or_in_process_executor`)."""
    if executor == "in_process":
        return {"in_process": {}}
    if executor == "multiprocess":
        return {"multiprocess": {
            "max_concurrent": max_concurrent,
            "tag_concurrency_limits": [{"key": MEMORY_TAG, "value": LARGE_MEMORY[MEMORY_TAG], "limit": 1}],
            # One import of the code location (the defs folder's modules build the assets
            # when imported), forked for every step: a spawned step would import Dagster,
            # pandas and the definitions again.
            "start_method": {"forkserver": {"preload_modules": [*code_location_modules(), *STEP_PROCESS_MODULES]}},
        }}
    raise ValueError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")


def check_line(ev: dg.AssetCheckEvaluation) -> str:
    """One line per check that did not pass: warnings say so, with their figures."""
    where = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
    figures = ", ".join(f"{k}={_plain(v.value)}" for k, v in ev.metadata.items() if isinstance(v.value, (int, float, str)))
    if ev.severity == dg.AssetCheckSeverity.WARN:
        return f"warning: check {where} did not pass ({figures}); the release goes ahead"
    blocking = " (blocking)" if ev.blocking else ""
    return f"check {where} failed{blocking}: {ev.description or figures}".rstrip(": ")


def _plain(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, float) and 0 <= value <= 1 else str(value)[:120]


@contextmanager
def code_location_config(config: str | None) -> Iterator[None]:
    """`SE_PIPELINE_CONFIG` = `config` while the run loads its definitions (the partners'
    catalogs it names are sources: `sources/registry.py`), restored afterwards so that a
    caller running several configs in one process does not pass one on to the next."""
    before = os.environ.get("SE_PIPELINE_CONFIG")
    if config:
        os.environ["SE_PIPELINE_CONFIG"] = str(Path(config).resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SE_PIPELINE_CONFIG", None)
        else:
            os.environ["SE_PIPELINE_CONFIG"] = before


def run_publish(settings: Settings, config_file: str | None, *, executor: str = "in_process",
                max_concurrent: int = 2, force: bool = False) -> Outcome:
    """Run `publish` for `settings` (read from `config_file`) with `executor`, in the
    instance at `dagster_home(settings)`; the outcome as the CLI reports it. `force`
    makes a new release even when nothing changed since `latest` (the `release` step's
    run config, as the Dagster UI sets it)."""
    with code_location_config(config_file):
        return _execute_publish(settings, config_file, executor, max_concurrent, force)


def _cause(error: SerializableErrorInfo) -> str:
    """What went wrong in a failed step, in one line: Dagster wraps the step's own
    exception (`DagsterExecutionStepExecutionError: Error occurred while executing op …`),
    which names nothing; the innermost cause says why."""
    while error.cause is not None:
        error = error.cause
    return " ".join(error.message.split())


def _execute_publish(settings: Settings, config_file: str | None, executor: str, max_concurrent: int,
                     force: bool) -> Outcome:
    logging.getLogger("dagster").setLevel(logging.WARNING)
    run_config = {"execution": {"config": executor_config(executor, max_concurrent)},
                  "ops": {RELEASE.to_user_string(): {"config": {"force": force}}}, **QUIET_LOGS}
    job_args = (str(Path(config_file).resolve()) if config_file else None, str(settings.output_dir))
    job = dg.build_reconstructable_job(__name__, publish_job.__name__, reconstructable_args=job_args)
    selection = enabled_assets(job.get_definition(), settings)
    with dg.DagsterInstance.from_config(str(dagster_home(settings))) as instance, dg.execute_job(
            job, instance, run_config=run_config, asset_selection=selection,
            tags={"launched_by": "se-pipeline run", "executor": executor, "force": str(force).lower()}) as result:
        problems = [check_line(ev) for ev in result.get_asset_check_evaluations() if not ev.passed]
        for ev in result.all_events:
            error = ev.step_failure_data.error if ev.is_step_failure else None
            # A failed blocking check fails its asset's step: its own line above says why.
            if error and error.cls_name != "DagsterAssetCheckFailedError":
                problems.append(f"step {ev.step_key} failed: {_cause(error)}")
        release = None
        made = result.asset_materializations_for_node(RELEASE.to_user_string()) if result.success else []
        if made:
            release = {k: v.value for k, v in made[-1].metadata.items()}
        return Outcome(result.success, problems, release, result.run_id)
