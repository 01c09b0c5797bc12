"""The documented benchmark command runs end to end (it once broke unnoticed when a
release helper it used was renamed): every stage, the CLI run and the baseline, at a
size small enough for the test suite. Its figures are not asserted: speed is measured
by running it, not by tests."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    [results] = tmp_path.glob("results-*.md")
    assert "### N = 200 records" in results.read_text(encoding="utf-8")
    assert not (tmp_path / "work" / "200").exists()  # working files go unless --keep
