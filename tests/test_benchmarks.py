"""The documented benchmark command runs end to end (it once broke unnoticed when a
release helper it used was renamed): every stage, the CLI run and the baseline, at a
size small enough for the test suite. Its timings are not asserted: speed is measured
by running it, not by tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil

from benchmarks.run import Sampler

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("fetch+parse+canonical", "reconcile (find_links)", "RDF + SHACL gate (per source)", "serialise N-Quads (gz)",
          "serialise Turtle", "serialise JSON-LD", "release gate (re-read x3)", "release SHACL (re-validate)",
          "publish all 3 formats", "full CLI run")


def test_the_benchmark_prints_every_stage_beside_its_baseline(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--sizes", "200", "--baseline-max", "200",
                           "--workdir", str(tmp_path / "work"), "--results", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line.split("|")[1].strip().strip("*"): line for line in done.stdout.splitlines() if line.startswith("| ")}
    for stage in STAGES:
        assert any(name.startswith(stage) for name in rows), f"no row for {stage}: {sorted(rows)}"
    publish = next(line for name, line in rows.items() if name.startswith("publish all 3 formats"))
    assert "x faster" in publish or "x slower" in publish  # the ratio against rdflib's serialisers
    cli = next(line for name, line in rows.items() if name.startswith("full CLI run"))
    assert "| ok: release" in cli
    cli_peak_mb = cli.split("|")[5].strip()  # the CLI's whole process tree (it was once "n/a")
    assert cli_peak_mb.isdigit() and int(cli_peak_mb) > 50, cli
    [results] = tmp_path.glob("results-*.md")
    assert "### N = 200 records" in results.read_text(encoding="utf-8")
    assert not (tmp_path / "work" / "200").exists()  # working files go unless --keep


def test_the_cli_peak_counts_the_whole_process_tree() -> None:
    """The 4 GiB target is for the CLI and its helper processes together, so memory that
    only a grandchild holds must count (a single process's `ru_maxrss` misses it)."""
    hold = "import time; b = b'x' * (200 << 20); time.sleep(1.5)"
    p = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys; subprocess.run([sys.executable, '-c', {hold!r}])"])
    tree = Sampler(psutil.Process(p.pid), tree=True, every=0.05)
    tree.start()
    assert p.wait(timeout=60) == 0
    assert tree.stop() >= 200 << 20


def test_the_checksums_benchmark_compares_both_ways_on_the_same_bytes(tmp_path: Path) -> None:
    """`benchmarks.checksums` (documented in benchmarks/README.md) runs end to end: both
    ways of writing SHA256SUMS' lines give the same bytes, and its work folder goes."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.checksums", "3000", "--workdir", str(tmp_path / "w")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sorted: " in done.stdout and "dict: " in done.stdout and "3000 lines: the same bytes" in done.stdout
    assert not (tmp_path / "w").exists()
