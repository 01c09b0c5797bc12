"""`python -m se_pipeline.release.exports STATE_DIR TARGET_DIR BASE_IRI SOURCE...`

Writes the partner exports of the named sources' last good rows; the release build runs
it as a child process beside its own work (see `se_pipeline.release.build`).
"""
from __future__ import annotations

import sys
from pathlib import Path

from se_pipeline import lifeline
from se_pipeline.release.exports import load_good_frames, write_partner_exports
from se_pipeline.runtime import tune_gc


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    state_dir, target_dir, base_iri, *sources = args
    lifeline.hold()
    tune_gc()
    write_partner_exports(load_good_frames(Path(state_dir), sources), Path(target_dir), base_iri)
    return 0


if __name__ == "__main__":
    sys.exit(main())
