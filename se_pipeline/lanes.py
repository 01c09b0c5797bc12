"""`se-pipeline run`: the `publish` job's assets through Dagster, in process, in two lanes.

Dagster's in-process executor runs one step at a time, and every source's steps (fetch,
map, its checks, RDF, SHACL gate) are independent of every other source's. So this
process and one worker process (`python -m se_pipeline.lanes`, tied to this one by
`lifeline`) each run an `execute_in_process` of the same definitions, checks included,
on their share of each stage:

1. the sources (asset groups `sources` and `rdf`: each source's asset, its graph and
   their checks), dealt out by expected size (`deal`);
2. what needs only the sources: the partner exports here, the links in the worker;
3. the rest (the release), here.

The worker starts first and loads the definitions while this process does, then takes
requests stage by stage. A stage starts only when both lanes of the one before
succeeded: a failed blocking check or step anywhere stops the release, as in the single
job. Below `LANES_FROM` bytes of input (the bundled samples) and with `--lanes 1` the
whole job runs in this process. Two vCPUs here give ~1.35x the throughput of one
(two pure-Python loops at once: 4.3-5.8 s each against 3.4 s alone), so lanes win
only what that allows.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import dagster as dg

from se_pipeline import lifeline
from se_pipeline.runtime import exit_now, give_back_memory
from se_pipeline.settings import Settings
from se_pipeline.sources.registry import SourceSpec, all_sources
from se_pipeline.state import SourceState

#: Input bytes (local source files, or last good graphs) from which the sources run in lanes.
LANES_FROM = 4 << 20
#: Asset groups that belong to one source each (see `se_pipeline.assets.sources`).
SOURCE_GROUPS = ("sources", "rdf")
RELEASE = dg.AssetKey("release")
_QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass
class Outcome:
    """What a run (or a lane of one) did: whether every step succeeded, the lines to show
    the user (failed checks and steps), and the release's metadata if one was made."""

    success: bool
    problems: list[str] = field(default_factory=list)
    release: dict[str, Any] | None = None


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


def _execute(defs: dg.Definitions, selection: list[dg.AssetKey] | None, instance: dg.DagsterInstance) -> Outcome:
    """`publish` (or the part of it that `selection` names, with those assets' checks) in
    this process, recorded in `instance` (one per process: a new ephemeral instance costs
    0.1 s, the first one 0.8 s of imports); the outcome as the CLI reports it."""
    logging.getLogger("dagster").setLevel(logging.WARNING)
    result = defs.resolve_job_def("publish").execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=selection, run_config=_QUIET)
    problems = [check_line(ev) for ev in result.get_asset_check_evaluations() if not ev.passed]
    for ev in result.all_events:
        if ev.is_step_failure:
            err = ev.step_failure_data.error
            problems.append(f"step {ev.step_key} failed: {err.message.strip() if err else ''}")
    release = None
    if result.success and (selection is None or RELEASE in selection):
        made = result.asset_materializations_for_node(RELEASE.to_user_string())
        if made:
            release = {k: v.value for k, v in made[-1].metadata.items()}
    return Outcome(result.success, problems, release)


def _weight(spec: SourceSpec, settings: Settings) -> int:
    """Expected work of a source, in bytes: its last good graph if there is one, else its
    input file when that is local (a `file:` URL or the bundled sample), else 0."""
    if not settings.enabled(spec.name):
        return 0
    graph = SourceState.of(settings.state_dir, spec.name).good / "graph.nt"
    if graph.is_file():
        return graph.stat().st_size
    url = settings.source_options(spec.name).get("url") or spec.sample_url
    if url.startswith("file:"):
        path = Path(unquote(urlparse(url).path))
        return path.stat().st_size if path.is_file() else 0
    return 0


def deal(weights: dict[str, int], n: int) -> list[list[str]]:
    """Sources dealt to `n` lanes, heaviest first to the lightest lane (ties by name)."""
    lanes: list[list[str]] = [[] for _ in range(n)]
    load = [0] * n
    for name, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
        k = load.index(min(load))
        lanes[k].append(name)
        load[k] += w
    return lanes


def _source_assets(defs: dg.Definitions) -> dict[str, list[dg.AssetKey]]:
    """Each source's assets (its group-`sources` asset and what derives from it in
    `SOURCE_GROUPS`), from the asset graph."""
    graph = defs.resolve_asset_graph()
    own = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name in SOURCE_GROUPS}
    roots = {k: [k] for k in own if not (graph.get(k).parent_keys & own)}
    for root, keys in roots.items():
        frontier = [root]
        while frontier:
            for child in graph.get(frontier.pop()).child_keys & own:
                if child not in keys:
                    keys.append(child)
                    frontier.append(child)
    return {root.to_user_string(): keys for root, keys in roots.items()}


def enabled_assets(defs: dg.Definitions, enabled: set[str]) -> list[dg.AssetKey]:
    """The `publish` job's assets without those of disabled sources. A disabled source's
    steps would only record that it is disabled (the release leaves it out either way),
    and each step costs Dagster ~30-50 ms: 12 disabled sources' 84 steps took 2.7-4.2 s."""
    off = {k for name, keys in _source_assets(defs).items() if name not in enabled for k in keys}
    return sorted((k for k in defs.resolve_job_def("publish").asset_layer.selected_asset_keys if k not in off),
                  key=lambda k: k.to_user_string())


class _Worker:
    """The helper lane: `python -m se_pipeline.lanes`, started before this process loads
    the definitions (its own load then costs no time on the critical path), kept for
    every stage. Requests and reports are small JSON files in `folder`, written whole and
    renamed; its stderr goes to a file, so a chatty worker can never block on a full pipe."""

    POLL_S = 0.02

    def __init__(self, folder: Path, config_file: str | None, output: Path) -> None:
        self.folder = folder
        self.log = folder / "worker.log"
        self.count = 0
        self.helper = lifeline.spawn("sources lane worker", "se_pipeline.lanes",
                                     *(["--config", config_file] if config_file else []),
                                     "--output", str(output), "--folder", str(folder))

    def start(self, keys: list[dg.AssetKey] | None) -> None:
        """Ask for `keys` to be materialised (None: exit)."""
        self.count += 1
        request = self.folder / f"request-{self.count}.json"
        _write_whole(request, json.dumps(None if keys is None else [k.to_user_string() for k in keys]))

    def result(self) -> Outcome:
        """Wait for the outcome of the last request."""
        report = self.folder / f"report-{self.count}.json"
        while not report.exists():
            if self.helper.process.poll() is not None:
                early = self.helper.process.stderr.read().decode("utf-8", "replace")  # before its log existed
                return Outcome(False, [f"{self.helper.what} exited ({self.helper.process.returncode}): "
                                       + (self._log_tail() + early)[-2000:]])
            time.sleep(self.POLL_S)
        return Outcome(**json.loads(report.read_text(encoding="utf-8")))

    def stop(self, *, now: bool = False) -> None:
        """Let the worker exit after its last request (or kill it `now`)."""
        if now:
            self.helper.kill()
        elif self.helper.process.poll() is None:
            self.start(None)
            try:
                self.helper.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.helper.kill()
        self.helper.process.stdin.close()
        self.helper.process.stderr.close()

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return "(no log)"


def _write_whole(path: Path, text: str) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.rename(path)


def _stages(defs: dg.Definitions, weights: dict[str, int], enabled: set[str]) -> list[tuple[list[dg.AssetKey], list[dg.AssetKey]]]:
    """(this process's assets, the worker's) for each stage, in order; the `enabled`
    sources only."""
    by_source = _source_assets(defs)
    here, away = deal({name: weights.get(name, 0) for name in by_source if name in enabled}, 2)
    graph = defs.resolve_asset_graph()
    done = {k for keys in by_source.values() for k in keys}
    after = sorted((k for k in graph.get_all_asset_keys() if k not in done), key=lambda k: k.to_user_string())
    ready = [k for k in after if graph.get(k).parent_keys <= done]
    # This process takes the release group's (the exports); the worker the others (the
    # links: a run's largest memory, returned when the worker exits, not held by the
    # process that then builds the release).
    return [
        ([k for name in here for k in by_source[name]], [k for name in away for k in by_source[name]]),
        ([k for k in ready if graph.get(k).group_name == "release"], [k for k in ready if graph.get(k).group_name != "release"]),
        ([k for k in after if k not in ready], []),
    ]


def run_publish(settings: Settings, config_file: str | None, lanes: int = 2) -> Outcome:
    """Run `publish` for `settings` (built from `config_file`): in two lanes when there is
    enough input, else as one job in this process."""
    from se_pipeline.definitions import build_definitions

    enabled = {name for name in all_sources() if settings.enabled(name)}
    weights = {spec.name: _weight(spec, settings) for spec in all_sources().values()}
    if lanes < 2 or len(enabled) < 2 or sum(weights.values()) < LANES_FROM:
        defs = build_definitions(config_file, str(settings.output_dir))
        with dg.DagsterInstance.ephemeral() as instance:
            return _execute(defs, enabled_assets(defs, enabled), instance)
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.output_dir, prefix=".lanes-") as tmp, \
            dg.DagsterInstance.ephemeral() as instance:
        worker = _Worker(Path(tmp), config_file, settings.output_dir)
        try:
            defs = build_definitions(config_file, str(settings.output_dir))
            outcome = _run_stages(defs, weights, enabled, worker, instance)
        except BaseException:  # Ctrl-C, or a bug here: the worker stops at once
            worker.stop(now=True)
            raise
        worker.stop()
        return outcome


def _run_stages(defs: dg.Definitions, weights: dict[str, int], enabled: set[str], worker: _Worker,
                instance: dg.DagsterInstance) -> Outcome:
    """Each stage's two lanes at once; the next stage only if both succeeded."""
    problems: list[str] = []
    last = Outcome(True)
    stages = _stages(defs, weights, enabled)
    for k, (here, away) in enumerate(stages):
        if away:
            worker.start(away)
        outcomes = [_execute(defs, here, instance) if here else Outcome(True)]
        if here and k + 1 < len(stages):
            give_back_memory()  # before the next stage, not at the end of the run
        if away:
            outcomes.append(worker.result())
            if not any(later for _, later in stages[k + 1:]):
                # Nothing more for the worker: it exits now, not at the end of the run,
                # so what it still holds (1.1 GB after the links of 10^6 enterprises) is
                # not held beside the release's own processes.
                worker.stop()
        problems += [line for o in outcomes for line in o.problems]
        if not all(o.success for o in outcomes):
            return Outcome(False, problems)
        last = outcomes[0]
    return Outcome(True, problems, last.release)


def main(argv: list[str] | None = None) -> int:
    """`python -m se_pipeline.lanes [--config C] --output O --folder F`: the worker lane of
    `run_publish`. Loads the definitions, then materialises each `F/request-<n>.json` (a
    list of asset keys) in turn, writing `F/report-<n>.json`, until a request is null."""
    from se_pipeline.definitions import build_definitions

    parser = argparse.ArgumentParser(prog="python -m se_pipeline.lanes", description=main.__doc__)
    parser.add_argument("--config")
    parser.add_argument("--output", required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args(argv)
    lifeline.hold()
    log = os.open(args.folder / "worker.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 2)  # sys.stderr writes to fd 2: now the log
    os.close(log)
    defs = build_definitions(args.config, args.output)
    n = 0
    with dg.DagsterInstance.ephemeral() as instance:
        while True:
            n += 1
            request = args.folder / f"request-{n}.json"
            while not request.exists():
                time.sleep(_Worker.POLL_S)
            keys = json.loads(request.read_text(encoding="utf-8"))
            if keys is None:
                return 0
            outcome = _execute(defs, [dg.AssetKey.from_user_string(k) for k in keys], instance)
            give_back_memory()
            _write_whole(args.folder / f"report-{n}.json", json.dumps(outcome.__dict__))


if __name__ == "__main__":
    exit_now(main())  # the parent waits for this exit before the release (see `_Worker.stop`)
