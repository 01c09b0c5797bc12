"""`se-pipeline` command line: run the pipeline, query and validate releases.

`run` materialises every asset through Dagster's own executors (see `se_pipeline.run`),
recorded in the Dagster instance `make dev` opens, so the CLI and the Dagster UI execute
exactly the same definitions, checks included, and the UI shows the CLI's runs.
"""
from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from se_pipeline.settings import DEFAULT_OUTPUT, ConfigError

if TYPE_CHECKING:
    from se_pipeline.settings import Settings


def _run(args: argparse.Namespace) -> int:
    from se_pipeline.settings import load_settings

    settings = load_settings(args.config, args.output)  # fail early on a bad config
    return _run_locked(args, settings)


def _run_locked(args: argparse.Namespace, settings: "Settings") -> int:
    from se_pipeline.run import dagster_home, run_publish
    from se_pipeline.run_lock import OutputBusy, run_lock
    from se_pipeline.runtime import tune_gc

    try:
        with run_lock(settings.output_dir, wait_s=args.wait,
                      on_wait=lambda who: print(f"se-pipeline: waiting up to {args.wait:g} s: {who}",
                                                file=sys.stderr, flush=True)) as lock:
            if lock.get("took_over_from"):
                print(f"se-pipeline: the run with pid {lock['took_over_from']} ended without releasing "
                      f"{settings.output_dir}; taking it over", file=sys.stderr)
            tune_gc()  # this process runs the steps (in-process executor): see se_pipeline/runtime.py
            outcome = run_publish(settings, args.config, executor=args.executor, max_concurrent=args.max_concurrent,
                                  force=args.force)
    except OutputBusy as e:
        print(f"se-pipeline: {e}", file=sys.stderr)
        return 3
    for line in outcome.problems:
        print(line, file=sys.stderr)
    print(f"Dagster run {outcome.run_id} in the instance at {dagster_home(settings)} "
          "(`make dev` shows it)", file=sys.stderr)
    meta = outcome.release
    if not outcome.success or not meta:
        kept = (f"{settings.latest} still points at the previous one" if settings.latest.exists()
                else "there is no release yet")
        print(f"se-pipeline: no new release; {kept}", file=sys.stderr)
        return 1
    if meta.get("new_release") is False:
        print(f"no change since release {meta['release_id']} (same fetched data, links, settings and code): "
              f"no new release, {settings.latest} kept; --force makes one anyway")
        return 0
    print(f"release {meta['release_id']}: {meta['triples']} triples, "
          f"{meta['dagster/row_count']} enterprises -> {settings.latest}")
    stale = meta["stale_sources"]
    if stale != "none":
        print(f"stale sources (last good data republished): {stale}", file=sys.stderr)
    return 0


def _prune(args: argparse.Namespace) -> int:
    from se_pipeline.release.errors import ReleaseError
    from se_pipeline.release.prune import prune
    from se_pipeline.run_lock import OutputBusy, run_lock
    from se_pipeline.settings import load_settings

    settings = load_settings(args.config, args.output)
    keep_last = settings.retention.keep_last if args.keep_last is None else args.keep_last
    keep_months = settings.retention.keep_months if args.keep_months is None else args.keep_months
    if not settings.releases_dir.is_dir():
        print(f"se-pipeline prune: no releases under {settings.output_dir}; nothing to do")
        return 0
    try:
        # A dry run removes nothing: it reports even while a run holds the folder.
        with nullcontext() if args.dry_run else run_lock(
                settings.output_dir, wait_s=args.wait,
                on_wait=lambda who: print(f"se-pipeline prune: waiting up to {args.wait:g} s: {who}",
                                          file=sys.stderr, flush=True)):
            result = prune(settings.output_dir, keep_last=keep_last, keep_months=keep_months, dry_run=args.dry_run)
    except OutputBusy as e:
        print(f"se-pipeline prune: {e}", file=sys.stderr)
        return 3
    except ReleaseError as e:
        print(f"se-pipeline prune: {settings.output_dir}: {e}", file=sys.stderr)
        return 2
    for line in result.lines():
        print(line)
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
        release=Path(args.release), host=args.host, port=args.port, public_url=args.public_url,
        timeout=args.timeout, max_rows=args.max_rows, workers=args.workers, describe_workers=args.describe_workers,
        worker_memory_mb=args.worker_memory, queue=args.queue, base_iri=args.base_iri,
        store_root=Path(args.store_dir) if args.store_dir else None, max_connections=args.max_connections,
        backlog=args.backlog, max_header_bytes=args.max_header_bytes, max_body_bytes=args.max_body_bytes,
        header_timeout=args.header_timeout, body_timeout=args.body_timeout, keep_alive=args.keep_alive,
        shutdown_timeout=args.shutdown_timeout, cache_max_age=args.cache_max_age,
    )
    try:
        serve(config, verbose=not args.quiet)
    except (QueryError, ValueError) as e:
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


def _murmurations_publish(args: argparse.Namespace) -> int:
    from se_pipeline.access.murmurations_index import PublishError, publish

    try:
        outcome = publish(Path(args.release), args.base_url, args.index, apply=args.apply,
                          state_path=Path(args.state) if args.state else None)
    except PublishError as e:
        print(f"se-pipeline murmurations publish: {e}", file=sys.stderr)
        return 2
    for line in outcome.lines(applied=args.apply):
        print(line)
    return 1 if outcome.failed else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="se-pipeline", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run every source and publish a release")
    r.add_argument("--config", help="YAML: sources.<name>.url to repoint a source (default: bundled samples)")
    r.add_argument("--output", help=f"output directory (default: {DEFAULT_OUTPUT})")
    r.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="if another run is using the output folder, wait up to SECONDS for it "
                        "(default 0: exit at once with status 3, naming the other run)")
    r.add_argument("--executor", choices=("in_process", "multiprocess"), default="in_process",
                   help="Dagster executor: every step in this process (default), or each step in its own process")
    r.add_argument("--max-concurrent", type=int, default=2, metavar="N",
                   help="with --executor multiprocess: steps run at once (default 2)")
    r.add_argument("--force", action="store_true",
                   help="make a new release even when nothing changed since the latest one")
    r.set_defaults(func=_run)
    pr = sub.add_parser("prune", help="remove old releases: keep the last N and one per month for M months, "
                        "always latest and the release before it")
    pr.add_argument("--config", help="YAML run config (its retention: keys give the defaults)")
    pr.add_argument("--output", help=f"output directory (default: {DEFAULT_OUTPUT})")
    pr.add_argument("--keep-last", type=_count, metavar="N",
                    help="keep the N newest releases (default: retention.keep_last, else 7)")
    pr.add_argument("--keep-months", type=_count, metavar="M",
                    help="keep the newest release of each of the M latest months that have one "
                         "(default: retention.keep_months, else 12)")
    pr.add_argument("--dry-run", action="store_true", help="say what would be removed and freed; remove nothing")
    pr.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                    help="if a run is using the output folder, wait up to SECONDS for it (default 0: exit 3)")
    pr.set_defaults(func=_prune)
    q = sub.add_parser("query", help="run SPARQL against a release")
    q.add_argument("sparql", help="query text, or @file.rq")
    q.add_argument("--release", default=str(DEFAULT_OUTPUT / "latest"))
    q.add_argument("--format", choices=["table", "csv", "json"], default="table")
    q.set_defaults(func=_query)
    from se_pipeline.namespaces import DEFAULT_DATA_BASE

    s = sub.add_parser("serve", help="read-only SPARQL endpoint + dereferenceable IRIs over a release "
                       "(every limit: docs/serving.md)")
    s.add_argument("--release", default=str(DEFAULT_OUTPUT / "latest"), help="release directory (default: output/latest)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000, help="0: any free port (printed)")
    s.add_argument("--public-url", help="the endpoint's public IRI in the service description "
                   "(default http://HOST:PORT/sparql; never taken from the Host header)")
    s.add_argument("--timeout", type=float, default=30.0, help="seconds before a query is stopped (default 30)")
    s.add_argument("--max-rows", type=int, default=10000, help="result rows (or triples) cap (default 10000)")
    s.add_argument("--workers", type=int, default=2, help="SPARQL query worker processes (default 2)")
    s.add_argument("--describe-workers", type=int, default=1, help="/id/ dereferencing worker processes (default 1)")
    s.add_argument("--worker-memory", type=int, default=1024, metavar="MIB",
                   help="memory one query may add to its worker, MiB (default 1024; 0: no cap)")
    s.add_argument("--queue", type=int, default=16, help="requests that may wait for busy workers before 503 (default 16)")
    s.add_argument("--max-connections", type=int, default=1000, help="open connections + requests before 503 (default 1000)")
    s.add_argument("--backlog", type=int, default=2048, help="listen backlog (default 2048)")
    s.add_argument("--max-header-bytes", type=int, default=65536, help="request line + headers (default 65536)")
    s.add_argument("--max-body-bytes", type=int, default=1 << 20, help="POST body (default 1048576; larger: 413)")
    s.add_argument("--header-timeout", type=float, default=10.0, help="seconds for a request head to arrive (default 10)")
    s.add_argument("--body-timeout", type=float, default=10.0, help="seconds for a request body to arrive (default 10)")
    s.add_argument("--keep-alive", type=float, default=5.0, help="idle keep-alive seconds (default 5)")
    s.add_argument("--shutdown-timeout", type=float, default=3.0, help="seconds in-flight requests get on SIGTERM (default 3)")
    s.add_argument("--cache-max-age", type=int, default=3600, help="Cache-Control max-age of GET answers (default 3600)")
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
    m = sub.add_parser("murmurations", help="Murmurations Index registration of a release's profiles")
    mp = m.add_subparsers(dest="action", required=True).add_parser(
        "publish", help="register the hosted profiles with an Index, delete withdrawn ones (dry run by default)")
    mp.add_argument("--release", default=str(DEFAULT_OUTPUT / "latest"), help="release directory (default: output/latest)")
    mp.add_argument("--base-url", required=True, help="where the release is hosted: profiles are <base-url>/murmurations/<file>")
    mp.add_argument("--index", required=True, help="the Index API root, e.g. https://index.murmurations.network")
    mp.add_argument("--apply", action="store_true", help="do it (default: print what would be done)")
    mp.add_argument("--state", help="what was registered (default: <output>/state/murmurations/<index>.json)")
    mp.set_defaults(func=_murmurations_publish)
    return p


def _count(text: str) -> int:
    """A whole number, 0 or more (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


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
