"""The matcher alone (`identity.match.find_links`) on a finished run's state: seconds,
links and peak RSS, and optionally the links frame, to compare two versions' answers.

`python -m benchmarks.find_links OUTPUT_DIR [--config CONFIG] [--save LINKS.parquet]`,
after `se-pipeline run [--config CONFIG] --output OUTPUT_DIR`. To measure another
version on the same frames, run it from that checkout's folder (`cd OLD &&
/path/to/.venv/bin/python -m benchmarks.find_links ...`): `python -m` puts the current
folder first on the path, before `PYTHONPATH`; the first line printed names the file used.
"""
from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from se_pipeline.identity import match
from se_pipeline.identity.decisions import load_decisions
from se_pipeline.identity.stage import DECISIONS, match_frames
from se_pipeline.settings import load_settings
from se_pipeline.sources.registry import all_sources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.find_links", description=__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("--config")
    parser.add_argument("--save", type=Path, help="write the links frame here (parquet)")
    args = parser.parse_args(argv)
    settings = load_settings(args.config, args.output)
    frames, _ = match_frames(settings, [s for s in all_sources() if settings.enabled(s)])
    records = frames.rows()
    start = time.perf_counter()
    links = match.find_links(frames, load_decisions(DECISIONS, base=settings.base_iri), base=settings.base_iri)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"{match.__file__}: {records:,} records, {len(links):,} links in {seconds:.1f} s; peak RSS {peak:.2f} GB")
    if args.save:
        links.to_parquet(args.save, index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
