"""`python -m benchmarks.load_server` keeps working: run at a tiny size against the sample release
(counts only; its figures live in benchmarks/README.md)."""
from __future__ import annotations

import math
from pathlib import Path

from benchmarks import load_server


def test_load_server_runs_at_a_tiny_size(sample_release: Path, capsys) -> None:
    argv = ["--release", str(sample_release), "--half-open", "5", "--slow-clients", "2", "--burst", "8",
            "--concurrency", "2", "--slow-queries", "1", "--query-timeout", "1", "--header-timeout", "1",
            "--max-seconds", "60"]
    args = load_server.build_parser().parse_args(argv)
    r = load_server.run(args)
    load_server.report(r, args)
    out = capsys.readouterr().out
    for label in ("queries:", "/id/:", "service description:", "/id/ probe", "half-open connections: 5 opened, 5 closed",
                  "exit after SIGTERM"):
        assert label in out, out
    assert sum(t.served + t.rejected + t.failed for t in r["burst"].values()) == 8
    assert r["burst"]["/id/"].served == 2 and r["burst"]["/id/"].failed == 0
    assert r["slowloris"].rejected == 2 and r["half_open_closed"] == 5
    assert math.isfinite(r["exit_seconds"])
