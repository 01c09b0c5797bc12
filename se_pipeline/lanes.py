"""`se-pipeline run`: the `publish` job's assets through Dagster, in process, in lanes.

Dagster's in-process executor runs one step at a time, and every source's steps (fetch,
map, its checks, RDF, SHACL gate) are independent of every other source's. Run as one
job they kept one core busy and the other idle until the release (23 s of a 75 s run at
3x10^4 enterprises). So the job runs in three stages, each split into lanes that run at
once: this process runs the first lane and helper processes (`python -m se_pipeline.lanes`,
tied to this one by `lifeline`) the others, each one `execute_in_process` of the same
definitions on its share, checks included.

1. the sources (asset groups `sources` and `rdf`: each source's asset, its graph and
   their checks), dealt out by expected size (`deal`);
2. what needs only the sources: the partner exports here, the links in a helper;
3. the rest (the release), here.

A stage starts only when every lane of the one before succeeded: a failed blocking check
or step anywhere stops the release, as in the single job. Below `LANES_FROM` bytes of
input (the bundled samples) and with `--lanes 1` the whole job runs in this process.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import dagster as dg

from se_pipeline import lifeline
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


def _execute(defs: dg.Definitions, selection: list[dg.AssetKey] | None) -> Outcome:
    """`publish` (or the part of it that `selection` names, with those assets' checks) in
    this process; the outcome as the CLI reports it."""
    logging.getLogger("dagster").setLevel(logging.WARNING)
    with dg.DagsterInstance.ephemeral() as instance:
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


def _lanes(defs: dg.Definitions, lanes: list[list[dg.AssetKey]], config_file: str | None, output: Path) -> list[Outcome]:
    """Run lane 0 here and the others in helper processes, at once; their outcomes."""
    with tempfile.TemporaryDirectory(dir=output, prefix=".lanes-") as tmp:
        helpers = []
        for i, keys in enumerate(lanes[1:], start=1):
            report = Path(tmp) / f"lane-{i}.json"
            names = [k.to_user_string() for k in keys]
            helpers.append((report, lifeline.spawn(
                f"lane {i} ({', '.join(names)})", "se_pipeline.lanes", *(["--config", config_file] if config_file else []),
                "--output", str(output), "--report", str(report), *names)))
        outcomes = [_execute(defs, lanes[0])]
        for report, helper in helpers:
            try:
                helper.wait()
                outcomes.append(Outcome(**json.loads(report.read_text(encoding="utf-8"))))
            except (lifeline.HelperFailed, OSError, ValueError) as e:
                outcomes.append(Outcome(False, [f"{helper.what} failed: {e}"]))
    return outcomes


def run_publish(defs: dg.Definitions, settings: Settings, config_file: str | None, lanes: int = 2) -> Outcome:
    """Run `publish`: the sources in `lanes` lanes when there is enough input; then the
    assets that need only the sources (links, partner exports) side by side; then the rest."""
    specs = all_sources()
    by_source = _source_assets(defs)
    weights = {name: _weight(specs[name], settings) if name in specs else 0 for name in by_source}
    if lanes < 2 or len(by_source) < 2 or sum(weights.values()) < LANES_FROM:
        return _execute(defs, None)
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    graph = defs.resolve_asset_graph()
    done = {k for keys in by_source.values() for k in keys}
    stages = [[[k for name in lane for k in by_source[name]] for lane in deal(weights, lanes) if lane]]
    after = sorted((k for k in graph.get_all_asset_keys() if k not in done), key=lambda k: k.to_user_string())
    ready = [k for k in after if graph.get(k).parent_keys <= done]
    # This process takes the release group's (the exports); a helper the others (the
    # links: a run's largest memory, returned when the helper exits, not held by the
    # process that then builds the release).
    here = [k for k in ready if graph.get(k).group_name == "release"]
    away = [k for k in ready if k not in here]
    stages.append([here, *(away[i::lanes - 1] for i in range(lanes - 1))] if here else [away])
    stages.append([[k for k in after if k not in ready]])
    last = Outcome(True)
    for stage in stages:
        stage = [keys for keys in stage if keys]
        if not stage:
            continue
        outcomes = _lanes(defs, stage, config_file, settings.output_dir)
        problems += [line for o in outcomes for line in o.problems]
        if not all(o.success for o in outcomes):
            return Outcome(False, problems)
        last = outcomes[0]
    return Outcome(True, problems, last.release)


def main(argv: list[str] | None = None) -> int:
    """`python -m se_pipeline.lanes [--config C] --output O --report R ASSET...`: one lane,
    started by `run_publish`; its outcome goes to R as JSON."""
    from se_pipeline.definitions import build_definitions

    parser = argparse.ArgumentParser(prog="python -m se_pipeline.lanes", description=main.__doc__)
    parser.add_argument("--config")
    parser.add_argument("--output", required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("assets", nargs="+", help="asset keys, as `dagster` prints them")
    args = parser.parse_args(argv)
    lifeline.hold()
    outcome = _execute(build_definitions(args.config, args.output),
                       [dg.AssetKey.from_user_string(a) for a in args.assets])
    args.report.write_text(json.dumps(outcome.__dict__), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
