"""Time `se-pipeline run` alone, several times, on data made by `benchmarks.synth`.

`python -m benchmarks.cli DATA_DIR [--runs 3] [--workdir DIR] [-- RUN_ARGS...]` runs
`se-pipeline run --config DATA_DIR/config.yaml --output <fresh dir> RUN_ARGS` `--runs`
times and prints, per run, the wall time, the peak RSS of the whole process tree (the
CLI, Dagster's step processes, the release's writers) and the CLI's last line; then the
median. Each run starts from an empty output folder (a cold run).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from benchmarks.run import cli_run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cli", description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="a folder written by `python -m benchmarks.synth N DIR`")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/se-bench-cli"))
    argv = sys.argv[1:] if argv is None else argv
    ours, run_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    args = ap.parse_args(ours)
    args.run_args = run_args
    walls = []
    for i in range(args.runs):
        cli = cli_run(args.data, args.workdir / "out", tuple(args.run_args))
        walls.append(cli["seconds"])
        print(f"run {i + 1}: {cli['seconds']:.1f} s, tree peak {cli['peak_rss_mb']:.0f} MB, "
              f"{'ok' if cli['ok'] else 'FAILED'}: {cli['stdout'].splitlines()[-1] if cli['stdout'] else cli['stderr'][-500:]}",
              flush=True)
        if not cli["ok"]:
            return 1
    print(f"median {statistics.median(walls):.1f} s over {len(walls)} runs: se-pipeline run {' '.join(args.run_args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
