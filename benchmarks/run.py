"""Stage-by-stage benchmark of the pipeline on synthetic data, against a naive rdflib/pyshacl baseline.

    python -m benchmarks.run [--sizes 1000,30000,100000] [--with-1m] [--baseline-max 100000] [--workdir DIR]
    python -m benchmarks.run --incremental [--sizes 1000,100000] [--with-1m] [--source coops_uk --share 0.01 --days 7]
    (either: [--settle] before each cold CLI run, after removing its output: see `settle_disk`)

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

`--incremental` measures instead what a daily run costs (issue 28), one output folder per
size, every run the real CLI: the cold run; a run with no source changed; a run after
SHARE of one source's records changed, were added and withdrawn (`benchmarks.mutate`,
deterministic, day by day); then more such days until DAYS daily releases exist, and the
disk those releases use together, hard-linked files counted once (`du -s -c`), beside one
release alone. Results: stdout + benchmarks/results-<date>-incremental.md.
"""
from __future__ import annotations

import argparse
import csv
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
    """Peak memory while something runs: this process by default (the stages, every 20 ms),
    or with `tree` a child and all its descendants summed (the CLI run: its step processes
    and release helpers are processes of their own, and the memory target is for all of
    them at once, which no one process's `ru_maxrss` gives).

    A tree's resident sizes summed count twice the pages its processes share (a forked
    writer's copy-on-write pages, the fork server's modules), so `tree` also keeps the
    peak of their proportional set sizes summed (PSS: a shared page divided among its
    sharers), the memory the tree takes from the machine. PSS is read from
    `/proc/<pid>/smaps_rollup`, which costs milliseconds per gigabyte: only at samples
    whose RSS sum could beat its peak (PSS <= RSS), and at most every `PSS_EVERY` s."""

    PSS_EVERY = 0.5

    def __init__(self, proc: psutil.Process | None = None, *, tree: bool = False, every: float = 0.02) -> None:
        self.proc = proc or psutil.Process()
        self.tree = tree
        self.every = every
        self.peak = 0
        #: with `tree`: the peak of the processes' PSS summed (0 where the system gives no PSS)
        self.peak_pss = 0
        self._pss_at = 0.0
        #: with `tree`: the CPU seconds (user + system) last seen of every process in it, by
        #: pid; short-lived processes lose at most their last sampling interval.
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._t: threading.Thread | None = None

    def _procs(self) -> list[psutil.Process]:
        try:
            return [self.proc, *self.proc.children(recursive=True)] if self.tree else [self.proc]
        except psutil.Error:
            return []

    def rss(self) -> int:
        """Resident bytes now (0 for processes that have already gone)."""
        return self._sample(self._procs())

    def _sample(self, procs: list[psutil.Process]) -> int:
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

    def _pss(self, procs: list[psutil.Process]) -> int:
        total = 0
        for p in procs:
            try:
                total += getattr(p.memory_full_info(), "pss", 0)
            except psutil.Error:
                pass
        return total

    def _record(self) -> None:
        procs = self._procs()
        rss = self._sample(procs)
        self.peak = max(self.peak, rss)
        now = time.monotonic()
        if self.tree and rss > self.peak_pss and now - self._pss_at >= self.PSS_EVERY:
            self._pss_at = now
            self.peak_pss = max(self.peak_pss, self._pss(procs))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._record()
            self._stop.wait(self.every)

    def start(self) -> None:
        self.peak = self.peak_pss = 0
        self._pss_at = 0.0
        self._record()
        self._stop.clear()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def stop(self) -> int:
        """Stop sampling; the peak in bytes (RSS, summed over the tree with `tree`)."""
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
            yield part, build._load(part.path, part.graph)

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
                for _ in statistics.add_part([store], part.graph, discard):
                    pass
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


#: Seconds after which ext4 without a journal reuses a deleted inode even when its table
#: block is dirty again (`RECENTCY_MIN` + `RECENTCY_DIRTY` in fs/ext4/ialloc.c), and one more.
SETTLE_S = 361


def settle_disk(seconds: float = SETTLE_S) -> None:
    """Write every dirty page back, then wait `seconds`: `--settle` of the benchmarks
    that time cold runs after removing the previous output.

    On an ext4 file system without a journal (this machine's), the kernel skips, when it
    allocates an inode, every free inode deleted less than 60 s ago, or 360 s while its
    inode-table block is dirty, as long as that block is in the buffer cache
    (`recently_deleted` in fs/ext4/ialloc.c). Removing the previous run's output (about
    2x10^5 files at 3x10^4 enterprises) then makes the next run's file creations scan past
    those inodes one by one: `perf` showed `recently_deleted` and its buffer lookups as
    most of a file creation's kernel time (benchmarks/README.md). Writing the blocks back
    is not enough: the next creations dirty them again. Nor is dropping the caches: each
    allocation reads its block back. Only the wait is (measured: benchmarks.file_creation)."""
    os.sync()
    time.sleep(seconds)


def cli_run(data: Path, out_dir: Path, extra: tuple[str, ...] = (), *, fresh: bool = True,
            settle: bool = False) -> dict[str, Any]:
    """`se-pipeline run` on `data` into `out_dir` (emptied first unless not `fresh`, then
    with `settle` the disk settled: `settle_disk`; `extra`: more arguments, e.g. the
    executor): wall time, and the peak RSS of its whole process tree."""
    exe = Path(PY).parent / "se-pipeline"
    settled = fresh and settle
    if fresh:
        shutil.rmtree(out_dir, ignore_errors=True)
        if settle:
            settle_disk()
    t0 = time.perf_counter()
    p = subprocess.Popen([str(exe), "run", "--config", str(data / "config.yaml"), "--output", str(out_dir), *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree = Sampler(psutil.Process(p.pid), tree=True, every=0.1)
    tree.start()
    stdout, stderr = p.communicate()
    seconds = time.perf_counter() - t0
    peak = tree.stop()
    return {"seconds": seconds, "ok": p.returncode == 0, "stdout": stdout.strip(), "stderr": stderr.strip()[-2000:],
            "peak_rss_mb": peak / 2**20, "peak_pss_mb": tree.peak_pss / 2**20, "cpu_s": sum(tree.cpu.values()),
            "settled": settled}


def du_bytes(*directories: Path) -> int:
    """Disk used by `directories` together, as `du -s -c` gives it (a file hard-linked
    into several of them counted once)."""
    done = subprocess.run(["du", "-s", "-c", "--block-size=1", *map(str, directories)],
                          capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1].split()[0])


def published_changes(release: Path) -> str:
    """What the release's changelog.csv says changed, by source: `coops_uk +84 -83 ~84`."""
    counts: dict[str, dict[str, int]] = {}
    with (release / "changelog.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by = counts.setdefault(row["source"], {})
            by[row["change"]] = by.get(row["change"], 0) + 1
    signs = (("added", "+"), ("removed", "-"), ("changed", "~"))
    return "; ".join(f"{s} " + " ".join(f"{sign}{by.get(k, 0)}" for k, sign in signs)
                     for s, by in sorted(counts.items())) or "changelog empty"


def incremental(n: int, root: Path, *, source: str, share: float, days: int, extra: tuple[str, ...],
                settle: bool = False) -> str:
    """The daily-run figures at size `n` (see the module's docstring), as a Markdown section."""
    from benchmarks.mutate import mutate
    from benchmarks.synth import generate
    from se_pipeline.release.prune import releases_in

    data, out = root / "data", root / "out"
    counts = generate(n, data)
    rows: list[tuple[str, dict[str, Any], str]] = []
    daily: list[str] = []  # the releases of days with a change (the cold run is day 1)

    def run(label: str, note: str = "", *, fresh: bool = False) -> None:
        before = set(releases_in(out / "releases"))
        r = cli_run(data, out, extra, fresh=fresh, settle=settle)
        made = sorted(set(releases_in(out / "releases")) - before)
        if not r["ok"]:
            raise SystemExit(f"{label}: se-pipeline run failed:\n{r['stderr']}")
        what = f"release {made[0]} ({published_changes(out / 'releases' / made[0])})" if made else "no new release"
        if r["settled"]:
            note = f"disk settled first{'; ' if note else ''}{note}"
        rows.append((label, r, f"{note}{'; ' if note else ''}{what}"))
        print(f"  {label:<34} {r['seconds']:8.1f} s  tree peak {r['peak_rss_mb']:6.0f} MB (PSS {r['peak_pss_mb']:6.0f})  "
              f"{rows[-1][2]}",
              file=sys.stderr, flush=True)
        if made and label != "no source changed":
            daily.extend(made)

    def change(day: int) -> str:
        m = mutate(data, day, share, source)
        return f"{source}: {m.changed} changed, {m.added} added, {m.withdrawn} withdrawn"

    run("cold", fresh=True)
    run("no source changed")
    run(f"{share:.0%} of {source} changed (day 2)", change(2))
    day = 3
    while len(daily) < days:
        run(f"day {day}: {share:.0%} of {source}", change(day))
        day += 1
    releases = [out / "releases" / rid for rid in daily[:days]]
    one, together = du_bytes(releases[0]), du_bytes(*releases)
    lines = [f"### N = {n:,} records: daily runs ({', '.join(f'{k} {v:,}' for k, v in counts.items())})", "",
             "| run | seconds | CPU s | peak RSS MiB (process tree) | peak PSS MiB (process tree) | what changed; what it made |",
             "|---|---:|---:|---:|---:|---|"]
    lines += [f"| {label} | {r['seconds']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | {r['peak_pss_mb']:.0f} | {note} |"
              for label, r, note in rows]
    lines += ["", f"Disk of the {len(releases)} daily releases together (`du -s -c`, hard links once): "
                  f"**{together / 2**20:,.1f} MiB**; one release alone (the cold one): {one / 2**20:,.1f} MiB; "
                  f"ratio **{together / one:.2f}**."]
    return "\n".join(lines)


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
    ap.add_argument("--incremental", action="store_true",
                    help="daily runs instead of stages: cold, no change, SHARE of one source changed, DAYS releases")
    ap.add_argument("--source", default="coops_uk", help="with --incremental: the source that changes (tabular)")
    ap.add_argument("--share", type=float, default=0.01, help="with --incremental: its share changed a day (0.01)")
    ap.add_argument("--days", type=int, default=7, help="with --incremental: daily releases measured on disk (7)")
    ap.add_argument("--settle", action="store_true",
                    help=f"before each cold CLI run, after its output folder is removed: sync and wait "
                         f"{SETTLE_S} s (see settle_disk)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.with_1m and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    mem = psutil.virtual_memory().total / 2**30
    header = (f"# se-pipeline benchmark, {date.today().isoformat()}\n\n"
              f"Machine: {platform.platform()}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}.\n"
              f"Started {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}. Command: "
              f"`python -m benchmarks.run {' '.join(argv)}`. SE_PIPELINE_SHACL={os.environ.get('SE_PIPELINE_SHACL', 'fast')}.\n"
              + ("" if args.incremental else f"Baseline only for N <= {args.baseline_max:,} (rdflib + pyshacl need "
                                               "minutes and ~1.3 KB/triple beyond that).\n"))
    sections = [header]
    if args.incremental:
        for n in sizes:
            print(f"N = {n:,} (daily runs)", file=sys.stderr, flush=True)
            root = args.workdir / f"{n}-incremental"
            shutil.rmtree(root, ignore_errors=True)
            sec = incremental(n, root, source=args.source, share=args.share, days=args.days,
                              extra=("--executor", args.executor), settle=args.settle)
            print(sec, flush=True)
            sections.append(sec)
            (args.results / f"results-{date.today().isoformat()}-incremental.md").write_text(
                "\n\n".join(sections) + "\n", encoding="utf-8")
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
        return 0
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
        cli = cli_run(root / "data", root / "cli", ("--executor", args.executor), settle=args.settle)
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
