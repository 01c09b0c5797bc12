"""`se-pipeline` command line: run the pipeline, query and validate releases.

`run` materialises every asset through Dagster's own executors (see `se_pipeline.run`),
recorded in the Dagster instance `make dev` opens, so the CLI and the Dagster UI execute
exactly the same definitions, checks included, and the UI shows the CLI's runs.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from se_pipeline.settings import DEFAULT_OUTPUT, ConfigError


def _run(args: argparse.Namespace) -> int:
    from se_pipeline.run import dagster_home, run_publish
    from se_pipeline.runtime import tune_gc
    from se_pipeline.settings import load_settings

    settings = load_settings(args.config, args.output)  # fail early on a bad config
    tune_gc()  # this process runs the steps (in-process executor): see se_pipeline/runtime.py
    outcome = run_publish(settings, args.config, executor=args.executor, max_concurrent=args.max_concurrent)
    for line in outcome.problems:
        print(line, file=sys.stderr)
    print(f"Dagster run {outcome.run_id} in the instance at {dagster_home(settings)} "
          "(`make dev` shows it)", file=sys.stderr)
    meta = outcome.release
    if not outcome.success or not meta:
        print(f"se-pipeline: no new release; {settings.latest} still points at the previous one", file=sys.stderr)
        return 1
    print(f"release {meta['release_id']}: {meta['triples']} triples, "
          f"{meta['dagster/row_count']} enterprises -> {settings.latest}")
    stale = meta["stale_sources"]
    if stale != "none":
        print(f"stale sources (last good data republished): {stale}", file=sys.stderr)
    return 0


def _query(args: argparse.Namespace) -> int:
    from se_pipeline.access.query import QueryError, load_store, render, run_query

    text = Path(args.sparql[1:]).read_text(encoding="utf-8") if args.sparql.startswith("@") else args.sparql
    try:
        result = run_query(load_store(Path(args.release)), text)
    except QueryError as e:
        print(f"se-pipeline query: {e}", file=sys.stderr)
        return 2
    print(render(result, args.format))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from se_pipeline.access.query import QueryError
    from se_pipeline.access.server import ServeConfig, serve

    config = ServeConfig(
        release=Path(args.release), host=args.host, port=args.port, timeout=args.timeout, max_rows=args.max_rows,
        workers=args.workers, base_iri=args.base_iri, store_root=Path(args.store_dir) if args.store_dir else None,
    )
    try:
        serve(config, verbose=not args.quiet)
    except QueryError as e:
        print(f"se-pipeline serve: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"se-pipeline serve: cannot serve on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    return 0


def _validate(args: argparse.Namespace) -> int:
    from se_pipeline.gate.errors import GateError
    from se_pipeline.gate.validate_cli import validate_path

    try:
        conforms, summary = validate_path(Path(args.target))
    except GateError as e:
        print(f"se-pipeline validate: {e}", file=sys.stderr)
        return 2
    print(summary)
    return 0 if conforms else 1


def _approve(args: argparse.Namespace) -> int:
    from se_pipeline.settings import load_settings
    from se_pipeline.state import SourceState, read_json, write_json

    settings = load_settings(args.config, args.output)
    state = SourceState.of(settings.state_dir, args.source)
    status = read_json(state.run / "status.json")
    if not status.get("ok"):
        print(f"se-pipeline approve: {args.source} has no successful run to approve", file=sys.stderr)
        return 2
    write_json(state.approval, {"rows": status["rows"], "approved_by": args.by})
    print(f"approved {args.source} at {status['rows']} records; re-run to publish it")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="se-pipeline", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run every source and publish a release")
    r.add_argument("--config", help="YAML: sources.<name>.url to repoint a source (default: bundled samples)")
    r.add_argument("--output", help=f"output directory (default: {DEFAULT_OUTPUT})")
    r.add_argument("--executor", choices=("in_process", "multiprocess"), default="in_process",
                   help="Dagster executor: every step in this process (default), or each step in its own process")
    r.add_argument("--max-concurrent", type=int, default=2, metavar="N",
                   help="with --executor multiprocess: steps run at once (default 2)")
    r.set_defaults(func=_run)
    q = sub.add_parser("query", help="run SPARQL against a release")
    q.add_argument("sparql", help="query text, or @file.rq")
    q.add_argument("--release", default=str(DEFAULT_OUTPUT / "latest"))
    q.add_argument("--format", choices=["table", "csv", "json"], default="table")
    q.set_defaults(func=_query)
    from se_pipeline.namespaces import DEFAULT_DATA_BASE

    s = sub.add_parser("serve", help="read-only SPARQL endpoint + dereferenceable IRIs over a release")
    s.add_argument("--release", default=str(DEFAULT_OUTPUT / "latest"), help="release directory (default: output/latest)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--timeout", type=float, default=30.0, help="seconds before a query is stopped (default 30)")
    s.add_argument("--max-rows", type=int, default=10000, help="result rows (or triples) cap (default 10000)")
    s.add_argument("--workers", type=int, default=2, help="query worker processes (default 2)")
    s.add_argument("--base-iri", default=DEFAULT_DATA_BASE, help="data base IRI; /id/<source>/<id> maps under it")
    s.add_argument("--store-dir", help="where on-disk stores live (default: <output>/stores)")
    s.add_argument("--quiet", action="store_true", help="do not log requests")
    s.set_defaults(func=_serve)
    v = sub.add_parser("validate", help="run the SHACL shapes on a release directory or an RDF file")
    v.add_argument("target")
    v.set_defaults(func=_validate)
    a = sub.add_parser("approve", help="approve a held-back source's new record count")
    a.add_argument("source")
    a.add_argument("--by", default="steward")
    a.add_argument("--config")
    a.add_argument("--output")
    a.set_defaults(func=_approve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"se-pipeline: {e}", file=sys.stderr)
        return 2


def console() -> None:
    """The `se-pipeline` command."""
    sys.exit(main())


if __name__ == "__main__":
    console()
