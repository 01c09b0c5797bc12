"""`python -m se_pipeline.release.exports STATE_DIR TARGET_DIR BASE_IRI SOURCE... [--digests FILE]`

Writes the partner exports of the named sources' last good rows; the release build runs
it as a child process beside its own work (see `se_pipeline.release.build`). `--digests`
saves the SHA-256 of every Murmurations profile written, for the release's SHA256SUMS
(paths relative to TARGET_DIR); the profiles are created read-only, as the release's files end up.
`--previous RELEASE_DIR DIGESTS` hard-links each profile equal to that release's, and takes
each source whose rows are those its share kept in STATE_DIR was made from from there
(`exports.parts`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from se_pipeline import child_processes
from se_pipeline.release.exports import write_partner_exports
from se_pipeline.release.exports.parts import SourceParts
from se_pipeline.state import GoodFrames
from se_pipeline.runtime import run_in_background, tune_gc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m se_pipeline.release.exports", description=__doc__)
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("target_dir", type=Path)
    parser.add_argument("base_iri")
    parser.add_argument("sources", nargs="*")
    parser.add_argument("--digests", type=Path)
    parser.add_argument("--previous", nargs=2, type=Path, metavar=("RELEASE_DIR", "PROFILE_DIGESTS"),
                        help="hard-link profiles equal to this release's (its sorted profile digests)")
    parser.add_argument("--stats", type=Path, help="write {linked, written} profile counts here (JSON)")
    args = parser.parse_args(argv)
    child_processes.die_with_parent()
    tune_gc()
    run_in_background()
    if args.digests:
        args.digests.write_bytes(b"")  # appended to source slice by source slice
    stats: dict[str, int] = {}
    previous, previous_digests = args.previous or (None, None)
    write_partner_exports(GoodFrames(args.state_dir, args.sources), args.target_dir, args.base_iri, args.digests,
                          read_only=True, previous=previous, previous_digests=previous_digests, stats=stats,
                          parts=SourceParts(args.state_dir, args.base_iri))
    if args.stats:
        args.stats.write_text(json.dumps(stats), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
