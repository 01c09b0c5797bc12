"""Time `se-pipeline run` alone, several times, on data made by `benchmarks.synth`.

`python -m benchmarks.cli DATA_DIR [--runs 3] [--workdir DIR] [-- RUN_ARGS...]` runs
`se-pipeline run --config DATA_DIR/config.yaml --output <fresh dir> RUN_ARGS` `--runs`
times and prints, per run, the wall time, the CPU time (user + system) of the whole
process tree (sampled every 0.1 s per process), the peak RSS of that tree (the CLI,
Dagster's step processes, the release's writers) and its peak PSS (shared pages counted
once: `benchmarks.run.Sampler`), and the CLI's last line; then the medians. Each run
starts from an empty output folder (a cold run); with `--settle` the disk is settled after
the previous output is removed (`benchmarks.run.settle_disk`: the files just deleted
would otherwise slow this run's file creation). On a busy machine the CPU time moves less
than the wall time.
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
    ap.add_argument("--settle", action="store_true", help="sync and wait six minutes after removing the previous output (see settle_disk)")
    argv = sys.argv[1:] if argv is None else argv
    ours, run_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    args = ap.parse_args(ours)
    args.run_args = run_args
    walls, cpus = [], []
    for i in range(args.runs):
        cli = cli_run(args.data, args.workdir / "out", tuple(args.run_args), settle=args.settle)
        cpu = cli["cpu_s"]
        walls.append(cli["seconds"])
        cpus.append(cpu)
        print(f"run {i + 1}: {cli['seconds']:.1f} s wall, {cpu:.1f} s CPU, tree peak {cli['peak_rss_mb']:.0f} MB (PSS {cli['peak_pss_mb']:.0f}), "
              f"{'disk settled, ' if cli['settled'] else ''}"
              f"{'ok' if cli['ok'] else 'FAILED'}: {cli['stdout'].splitlines()[-1] if cli['stdout'] else cli['stderr'][-500:]}",
              flush=True)
        if not cli["ok"]:
            return 1
    print(f"median {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} s CPU over {len(walls)} runs: "
          f"se-pipeline run {' '.join(args.run_args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
