"""The documented benchmark command runs end to end (it once broke unnoticed when a
release helper it used was renamed): every stage, the CLI run and the baseline, at a
size small enough for the test suite. Its timings are not asserted: speed is measured
by running it, not by tests."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

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


@pytest.mark.parametrize("source", ["coops_uk", "fairtrade"])
def test_a_mutation_changes_adds_and_withdraws_its_share_the_same_way_every_time(tmp_path: Path, source: str) -> None:
    from benchmarks.mutate import mutate
    from benchmarks.synth import CsvWriter, WRITERS, _sample, generate
    from se_pipeline.sources.base import SourceContext
    from se_pipeline.sources.registry import all_sources

    writer = WRITERS[source]
    assert issubclass(writer, CsvWriter)

    def rows(data: Path) -> list[tuple[str, str]]:
        """(id, name) of every row of the file."""
        with (data / _sample(source).name).open(newline="", encoding="utf-8-sig") as f:
            return [(r[writer.id_col], r[writer.name_col]) for r in csv.DictReader(f)]

    first, second = tmp_path / "a", tmp_path / "b"
    generate(3000, first)
    generate(3000, second)
    before = rows(first)
    m = mutate(first, 3, 0.03, source)
    assert mutate(second, 3, 0.03, source) == m
    assert (first / _sample(source).name).read_bytes() == (second / _sample(source).name).read_bytes()
    after = rows(first)
    each = round(len(before) * 0.03 / 3)
    assert (m.changed, m.added, m.withdrawn, m.records) == (each, each, each, len(before))
    added = [row for row in after if row[0] not in {rid for rid, _ in before}]
    assert len(added) == each and all(name.startswith("Day 3 New Co-operative") for _, name in added)
    assert sum(name.endswith("(renamed on day 3)") for _, name in after) == each
    assert len([row for row in before if row not in after]) == 2 * each  # renamed + withdrawn rows
    # The source's own adapter reads the new file, new records included.
    spec = all_sources()[source]
    raw = (first / _sample(source).name).read_bytes()
    parsed = spec.parse(raw, SourceContext(source, spec.mapping, url="file://x", encoding=None, options={}))
    assert {rid for rid, _ in added} <= set(parsed.frame["record_id"].astype(str))
    mutate(first, 4, 0.03, source)  # another day touches other records
    assert {rid for rid, _ in rows(first)} != {rid for rid, _ in after}


def test_the_incremental_benchmark_prints_each_run_and_the_disk_of_the_daily_releases(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--incremental", "--sizes", "200", "--days", "2",
                           "--workdir", str(tmp_path / "work"), "--results", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split("|") for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r[1].strip() for r in rows[1:]] == ["cold", "no source changed", "1% of coops_uk changed (day 2)"]
    changed = rows[3][6]
    assert "coops_uk: 1 changed, 1 added, 1 withdrawn; release " in changed and "(coops_uk +1 " in changed
    # The process tree's peaks, MiB: its RSS summed, and its PSS (shared pages once), never more.
    assert all(0 < float(r[5]) <= float(r[4]) and float(r[4]) > 50 for r in rows[1:])
    disk = next(line for line in done.stdout.splitlines() if line.startswith("Disk of the 2 daily releases"))
    assert "ratio **" in disk
    [results] = tmp_path.glob("results-*-incremental.md")
    assert "daily runs" in results.read_text(encoding="utf-8")
    assert not (tmp_path / "work" / "200-incremental").exists()


def test_the_file_creation_benchmark_times_each_set_and_removes_its_folder(tmp_path: Path) -> None:
    """`benchmarks.file_creation` (the figure behind `--settle`, benchmarks/README.md)
    runs end to end: a row for each set of files, and its folder goes."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.file_creation", str(tmp_path / "w"), "--files", "300",
                           "--settle-seconds", "0"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = done.stdout.splitlines()
    assert [r.split(": ")[0] for r in rows] == [
        "300 files in 7 folders on a settled disk", "300 files in 7 folders right after removing as many files",
        "300 files in 7 folders after removing them, sync and 0 s"], rows
    assert all(r.endswith("us a file") for r in rows)
    assert not (tmp_path / "w").exists()
