"""Stage-by-stage benchmark of the pipeline on synthetic data, against a naive rdflib/pyshacl baseline.

    python -m benchmarks.run [--sizes 1000,30000,100000] [--with-1m] [--baseline-max 100000] [--workdir DIR]

For each size N: generate N records (benchmarks.synth), then in a fresh subprocess time each
stage of OUR pipeline, then the full CLI run (`se-pipeline run`), then (N <= --baseline-max)
the NAIVE BASELINE in another fresh subprocess: one rdflib Dataset of the whole released
data, `serialize` to Turtle, JSON-LD and N-Quads, and ONE pyshacl.validate call over it.

Measured per stage: wall seconds, records/s, triples/s, and peak RSS. Peak RSS is the
maximum resident set size of the benchmark process sampled every 20 ms (psutil thread)
while the stage runs; stages run in order in one process per N, so a stage's figure
includes what earlier stages still hold (Python rarely returns freed memory). The CLI
figure is the peak of its whole process tree (the CLI, its lane worker and release helpers,
summed, sampled every 100 ms). Results: stdout + benchmarks/results-<date>.md.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import psutil

HERE = Path(__file__).resolve().parent
PY = sys.executable


class Sampler:
    """Peak RSS while something runs: this process by default (the stages, every 20 ms), or
    with `tree` a child and all its descendants summed (the CLI run: its lane worker and
    release helpers are processes of their own, and the memory target is for all of them
    at once, which no one process's `ru_maxrss` gives)."""

    def __init__(self, proc: psutil.Process | None = None, *, tree: bool = False, every: float = 0.02) -> None:
        self.proc = proc or psutil.Process()
        self.tree = tree
        self.every = every
        self.peak = 0
        #: with `tree`: the CPU seconds (user + system) last seen of every process in it, by
        #: pid; short-lived processes lose at most their last sampling interval.
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._t: threading.Thread | None = None

    def rss(self) -> int:
        """Resident bytes now (0 for processes that have already gone)."""
        try:
            procs = [self.proc, *self.proc.children(recursive=True)] if self.tree else [self.proc]
        except psutil.Error:
            return 0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
                if self.tree:
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
            except psutil.Error:
                pass
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(self.every)

    def start(self) -> None:
        self.peak = self.rss()
        self._stop.clear()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stop.set()
        if self._t is not None:
            self._t.join()
        return max(self.peak, self.rss())

    @contextmanager
    def stage(self, out: dict[str, Any], name: str, records: int | None = None, triples: int | None = None) -> Iterator[dict]:
        self.start()
        row: dict[str, Any] = {"stage": name, "records": records, "triples": triples}
        t0 = time.perf_counter()
        try:
            yield row
        finally:
            row["seconds"] = time.perf_counter() - t0
            row["peak_rss_mb"] = self.stop() / 2**20
            out.setdefault("stages", []).append(row)
            print(f"  {name:<28} {row['seconds']:8.2f} s  peak {row['peak_rss_mb']:7.0f} MB", file=sys.stderr, flush=True)


def _count_lines(path: Path) -> int:
    n = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
    return n


# --- OUR pipeline, stage by stage (runs in a subprocess) ---------------------------------

def ours(data: Path, out_dir: Path) -> dict[str, Any]:
    from se_pipeline.gate.release_shacl import validate_release
    from se_pipeline.gate.source import gate_source
    from se_pipeline.namespaces import PREFIXES, SE_GRAPH
    from se_pipeline.release import build
    from se_pipeline.release import gate as rgate
    from se_pipeline.release.jsonld import write_jsonld
    from se_pipeline.settings import load_settings
    from se_pipeline.sources.ingest import ingest
    from se_pipeline.sources.registry import all_sources
    from se_pipeline.state import SourceState, read_frame
    import pyoxigraph as ox

    res: dict[str, Any] = {}
    sm = Sampler()
    settings = load_settings(data / "config.yaml", out_dir)
    specs = [s for s in all_sources().values() if settings.enabled(s.name)]
    secs = {"fetch": 0.0, "parse": 0.0, "canonical": 0.0}
    with sm.stage(res, "fetch+parse+canonical") as row:
        rows = 0
        for spec in specs:
            o = ingest(spec, settings, http=None)
            if not o.ok:
                raise SystemExit(f"{spec.name} failed: {o.error}")
            rows += o.rows
            for k in secs:
                secs[k] += o.seconds.get(k, 0.0)
        row["records"] = rows
    row["detail"] = ", ".join(f"{k} {v:.2f}s" for k, v in secs.items())
    records = rows
    frames = {s.name: read_frame(SourceState.of(settings.state_dir, s.name).run / "canonical.parquet") for s in specs}
    try:
        from se_pipeline.identity.match import find_links
    except ImportError:
        find_links = None
    if find_links is not None:
        with sm.stage(res, "reconcile (find_links)", records) as row:
            links = find_links(frames, base=settings.base_iri)
        row["detail"] = f"{len(links)} candidate links"
    else:
        res.setdefault("notes", []).append("reconcile skipped: se_pipeline.identity.match not importable")
    del frames
    rdf_s = shacl_s = 0.0
    with sm.stage(res, "RDF + SHACL gate (per source)", records) as row:
        for spec in specs:
            o = gate_source(spec.name, settings)
            if o.status != "promoted":
                raise SystemExit(f"{spec.name}: {o.status} {o.message}")
            rdf_s += o.seconds.get("rdf", 0.0)
            shacl_s += o.seconds.get("shacl", 0.0)
    goods = [SourceState.of(settings.state_dir, s.name).good / "graph.nt" for s in specs]
    triples = sum(_count_lines(p) for p in goods)
    row["triples"] = triples
    row["detail"] = f"rdf {rdf_s:.2f}s, gate {shacl_s:.2f}s"
    res["rdf_seconds"], res["gate_seconds"] = rdf_s, shacl_s
    parts = [build.GraphPart(SE_GRAPH + s.name, p) for s, p in zip(specs, goods)]
    rel = out_dir / "bench-release"
    shutil.rmtree(rel, ignore_errors=True)
    rel.mkdir(parents=True)
    # Each serialiser row loads the parts into Oxigraph itself (write_datasets loads each
    # part once and writes all three formats from it), so the rows overlap by that load.
    def part_stores() -> Iterator[tuple[Any, ox.Store]]:
        for part in parts:  # one part's store at a time, as the release holds them
            yield part, build._part_store(part)

    with sm.stage(res, "serialise N-Quads (gz)", records, triples):
        with gzip.open(rel / "dataset.nq.gz", "wb", compresslevel=build.NQUADS_GZIP_LEVEL) as f:
            for part, store in part_stores():
                store.dump(f, format=ox.RdfFormat.N_QUADS)
    with sm.stage(res, "serialise Turtle", records, triples):
        with (rel / "dataset.ttl").open("wb") as f:
            for part, store in part_stores():
                store.dump(f, format=ox.RdfFormat.TURTLE, from_graph=ox.NamedNode(part.graph), prefixes=PREFIXES)
    with sm.stage(res, "serialise JSON-LD", records, triples):
        with (rel / "dataset.jsonld").open("w", encoding="utf-8") as f:
            write_jsonld(((ox.NamedNode(part.graph), store.quads_for_pattern(None, None, None, ox.NamedNode(part.graph)))
                          for part, store in part_stores()), f)
    with sm.stage(res, "release gate (re-read x3)", records, triples):
        statistics = build.DatasetStatistics()
        with open(os.devnull, "wb") as discard:
            for part, store in part_stores():
                statistics.add_part(store, part.graph, discard)
        problems = rgate.check_release_files(rel, statistics.quads.result())
    if problems:
        raise SystemExit(f"release gate: {problems}")
    with sm.stage(res, "release SHACL (re-validate)", records, triples):
        conforms, _, _ = validate_release(rel / "dataset.nq.gz")
    if not conforms:
        raise SystemExit("release SHACL: does not conform")
    res["records"], res["triples"] = records, triples
    res["release_dir"] = str(rel)
    return res


# --- the NAIVE baseline (runs in a subprocess) -------------------------------------------

def baseline(release: Path) -> dict[str, Any]:
    import pyshacl
    import rdflib

    from se_pipeline.gate.shacl import load_shapes

    res: dict[str, Any] = {}
    sm = Sampler()
    shapes = load_shapes()
    with sm.stage(res, "baseline: rdflib parse") as row:
        ds = rdflib.Dataset()
        with gzip.open(release / "dataset.nq.gz", "rb") as f:
            ds.parse(f, format="nquads")
        row["triples"] = len(ds)
    union = rdflib.ConjunctiveGraph(store=ds.store)
    sink = release / "baseline-out"
    sink.mkdir(exist_ok=True)
    with sm.stage(res, "baseline: Turtle"):
        union.serialize(destination=str(sink / "b.ttl"), format="turtle")
    with sm.stage(res, "baseline: JSON-LD"):
        ds.serialize(destination=str(sink / "b.jsonld"), format="json-ld")
    with sm.stage(res, "baseline: N-Quads"):
        ds.serialize(destination=str(sink / "b.nq"), format="nquads")
    shutil.rmtree(sink, ignore_errors=True)
    with sm.stage(res, "baseline: pyshacl (1 call)") as row:
        conforms, _, _ = pyshacl.validate(ds, shacl_graph=shapes, inference="none", advanced=True,
                                          allow_warnings=True)
        row["detail"] = f"conforms={conforms}"
    return res


# --- orchestration ---------------------------------------------------------------------

def _sub(mode: str, *args: str) -> dict[str, Any]:
    p = subprocess.run([PY, "-m", "benchmarks.run", mode, *args], cwd=HERE.parent, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{mode} {args} failed ({p.returncode})")
    return json.loads(p.stdout.strip().splitlines()[-1])


def cli_run(data: Path, out_dir: Path, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """`se-pipeline run` on `data` into a fresh `out_dir` (`extra`: more arguments, e.g. the
    executor): wall time, and the peak RSS of its whole process tree."""
    exe = Path(PY).parent / "se-pipeline"
    shutil.rmtree(out_dir, ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.Popen([str(exe), "run", "--config", str(data / "config.yaml"), "--output", str(out_dir), *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree = Sampler(psutil.Process(p.pid), tree=True, every=0.1)
    tree.start()
    stdout, stderr = p.communicate()
    seconds = time.perf_counter() - t0
    peak = tree.stop()
    return {"seconds": seconds, "ok": p.returncode == 0, "stdout": stdout.strip(), "stderr": stderr.strip()[-2000:],
            "peak_rss_mb": peak / 2**20, "cpu_s": sum(tree.cpu.values())}


def fmt_rate(n: int | None, s: float) -> str:
    if not n or s <= 0:
        return ""
    r = n / s
    return f"{r / 1e6:.2f}M" if r >= 1e6 else f"{r / 1e3:.1f}k" if r >= 1e3 else f"{r:.0f}"


PAIRS = {  # our stage -> baseline stage
    "serialise Turtle": "baseline: Turtle", "serialise JSON-LD": "baseline: JSON-LD",
    "serialise N-Quads (gz)": "baseline: N-Quads", "release SHACL (re-validate)": "baseline: pyshacl (1 call)",
}


def table(n: int, o: dict[str, Any], b: dict[str, Any] | None, cli: dict[str, Any]) -> str:
    base = {r["stage"]: r for r in (b or {}).get("stages", [])}
    lines = [f"### N = {n:,} records ({o['triples']:,} triples published)", "",
             "| stage | seconds | records/s | triples/s | peak RSS MB | baseline s | baseline RSS MB | ours/baseline | notes |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in o["stages"]:
        bl = base.get(PAIRS.get(r["stage"], ""))
        ratio = f"{r['seconds'] / bl['seconds']:.3f} ({bl['seconds'] / r['seconds']:.0f}x faster)" if bl else ""
        lines.append(
            f"| {r['stage']} | {r['seconds']:.2f} | {fmt_rate(r.get('records'), r['seconds'])} | "
            f"{fmt_rate(r.get('triples'), r['seconds'])} | {r['peak_rss_mb']:.0f} | "
            f"{bl['seconds']:.2f} | {bl['peak_rss_mb']:.0f} | {ratio} | {r.get('detail', '')} |" if bl else
            f"| {r['stage']} | {r['seconds']:.2f} | {fmt_rate(r.get('records'), r['seconds'])} | "
            f"{fmt_rate(r.get('triples'), r['seconds'])} | {r['peak_rss_mb']:.0f} |  |  |  | {r.get('detail', '')} |")
    if "gate_seconds" in o and "baseline: pyshacl (1 call)" in base:
        bl = base["baseline: pyshacl (1 call)"]
        lines.append(f"| SHACL gate alone (in the row above) | {o['gate_seconds']:.2f} | | "
                     f"{fmt_rate(o['triples'], o['gate_seconds'])} | | {bl['seconds']:.2f} | {bl['peak_rss_mb']:.0f} | "
                     f"{o['gate_seconds'] / bl['seconds']:.3f} ({bl['seconds'] / o['gate_seconds']:.0f}x faster) | per-source gate incl. filter |")
    if b:
        bp = base.get("baseline: rdflib parse")
        if bp:
            lines.append(f"| (baseline: rdflib parse of the dataset) | | | | | {bp['seconds']:.2f} | {bp['peak_rss_mb']:.0f} | | |")
        ours_pub = sum(r["seconds"] for r in o["stages"] if r["stage"].startswith("serialise"))
        base_pub = sum(base[k]["seconds"] for k in ("baseline: Turtle", "baseline: JSON-LD", "baseline: N-Quads"))
        lines.append(f"| **publish all 3 formats** | {ours_pub:.2f} | | {fmt_rate(o['triples'], ours_pub)} | | "
                     f"{base_pub:.2f} | | {ours_pub / base_pub:.3f} ({base_pub / ours_pub:.0f}x faster) | |")
    else:
        lines.append("| (baseline not run at this size: capped by --baseline-max) | | | | | | | | |")
    lines.append(f"| **full CLI run** `se-pipeline run` | **{cli['seconds']:.1f}** | {fmt_rate(n, cli['seconds'])} | "
                 f"{fmt_rate(o['triples'], cli['seconds'])} | {cli['peak_rss_mb']:.0f} | | | | {'ok' if cli['ok'] else 'FAILED'}: {cli['stdout'][:120]} |")
    for note in o.get("notes", []):
        lines.append(f"\nNote: {note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--ours-only":
        print(json.dumps(ours(Path(argv[1]), Path(argv[2]))))
        return 0
    if argv and argv[0] == "--baseline-only":
        print(json.dumps(baseline(Path(argv[1]))))
        return 0
    ap = argparse.ArgumentParser(description="stage benchmark, ours vs naive rdflib/pyshacl")
    ap.add_argument("--sizes", default="1000,30000,100000")
    ap.add_argument("--with-1m", action="store_true", help="also run N = 1,000,000 (no baseline)")
    ap.add_argument("--baseline-max", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/se-bench"))
    ap.add_argument("--keep", action="store_true", help="keep generated data and outputs")
    ap.add_argument("--results", type=Path, default=HERE, help="folder of results-<date>.md (default: benchmarks/)")
    ap.add_argument("--executor", choices=("in_process", "multiprocess"), default="in_process",
                    help="the CLI run's Dagster executor (se-pipeline run --executor)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.with_1m and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    mem = psutil.virtual_memory().total / 2**30
    header = (f"# se-pipeline benchmark, {date.today().isoformat()}\n\n"
              f"Machine: {platform.platform()}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}.\n"
              f"Started {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}. Command: "
              f"`python -m benchmarks.run {' '.join(argv)}`. SE_PIPELINE_SHACL={os.environ.get('SE_PIPELINE_SHACL', 'fast')}.\n"
              f"Baseline only for N <= {args.baseline_max:,} (rdflib + pyshacl need minutes and ~1.3 KB/triple beyond that).\n")
    sections = [header]
    for n in sizes:
        print(f"N = {n:,}", file=sys.stderr, flush=True)
        root = args.workdir / str(n)
        shutil.rmtree(root, ignore_errors=True)
        t0 = time.perf_counter()
        from benchmarks.synth import generate
        counts = generate(n, root / "data")
        gen_s = time.perf_counter() - t0
        print(f"  generated in {gen_s:.1f}s: {counts}", file=sys.stderr, flush=True)
        o = _sub("--ours-only", str(root / "data"), str(root / "ours"))
        print("  full CLI run ...", file=sys.stderr, flush=True)
        cli = cli_run(root / "data", root / "cli", ("--executor", args.executor))
        print(f"  full CLI run {cli['seconds']:.1f}s ok={cli['ok']} {cli['stdout']}", file=sys.stderr, flush=True)
        if not cli["ok"]:
            print(cli["stderr"], file=sys.stderr)
        b = _sub("--baseline-only", o["release_dir"]) if n <= args.baseline_max else None
        sec = table(n, o, b, cli) + f"\n\nGenerated in {gen_s:.1f}s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        print(sec, flush=True)
        sections.append(sec)
        (args.results / f"results-{date.today().isoformat()}.md").write_text("\n\n".join(sections) + "\n", encoding="utf-8")
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
