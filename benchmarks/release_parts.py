"""CPU of each part of a release, alone and one after another, on a finished run's state.

`python -m benchmarks.release_parts OUTPUT_DIR [SCRATCH_DIR]`, after `se-pipeline run
--output OUTPUT_DIR`: writes the datasets, re-reads them as the release gate does,
writes the changelog against OUTPUT_DIR/latest, the event stream as a stream's first
release writes it (every record a member), then the static documents with one
writer (pages in `--langs`, default all four), under SCRATCH_DIR (default: a new
folder beside OUTPUT_DIR; never deleted here, since a large delete slows this VM's
next file creations for minutes). A full
run overlaps these parts on two cores; this says what each costs by itself.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, TypeVar

import pyoxigraph as ox

from se_pipeline.access.pages import LANGS
from se_pipeline.identity.links_rdf import LINKS_GRAPH
from se_pipeline.namespaces import DEFAULT_DATA_BASE, SE_GRAPH
from se_pipeline.release import gate
from se_pipeline.release.build import GraphPart, DatasetStatistics, write_datasets
from se_pipeline.release.changelog import write_changelog
from se_pipeline.release.ldes import write_event_stream

T = TypeVar("T")


def timed(label: str, work: Callable[[], T]) -> T:
    before, start = os.times(), time.perf_counter()
    result = work()
    after = os.times()
    own = after.user - before.user + after.system - before.system
    children = after.children_user - before.children_user + after.children_system - before.children_system
    print(f"{label:24s} wall {time.perf_counter() - start:6.2f} s  cpu {own + children:6.2f} s "
          f"(system {after.system - before.system + after.children_system - before.children_system:.2f} s)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("scratch", type=Path, nargs="?")
    parser.add_argument("--base-iri", default=DEFAULT_DATA_BASE, help="the run's base_iri, if its config set one")
    parser.add_argument("--langs", default=",".join(LANGS), help="languages of the id/ pages (default: all)")
    args = parser.parse_args()
    state = args.output / "state"
    parts = [GraphPart(SE_GRAPH + d.name, d / "good" / "graph.nt")
             for d in sorted(state.iterdir()) if (d / "good" / "graph.nt").is_file()]
    links = state / "_identity" / "links.nt"
    if links.is_file():
        parts.append(GraphPart(LINKS_GRAPH, links))
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="release-parts-", dir=args.output.parent))
    scratch.mkdir(parents=True, exist_ok=True)
    print(f"{len(parts)} graphs, scratch {scratch}")

    statistics = DatasetStatistics()
    timed("write_datasets", lambda: write_datasets(scratch, parts, statistics, scratch))
    timed("re-read dataset.nq.gz", lambda: gate.nquads_file_fingerprint(scratch / "dataset.nq.gz"))
    timed("re-read dataset.ttl", lambda: gate.fingerprint(ox.parse(path=str(scratch / "dataset.ttl"),
                                                                   format=ox.RdfFormat.TURTLE)))
    timed("re-read dataset.jsonld", lambda: gate.fingerprint(gate._jsonld_quads(scratch / "dataset.jsonld")))
    previous = args.output / "latest" / "dataset.nq.gz"
    timed("changelog", lambda: write_changelog(previous if previous.is_file() else None, statistics.records,
                                               scratch / "changelog.csv"))
    # The event stream as its first release writes it (every record a member: its worst case).
    timed("event stream (start)", lambda: write_event_stream(scratch, None, statistics.records.digests, "start",
                                                             datetime.now(timezone.utc), args.base_iri, scratch))
    documents = [sys.executable, "-m", "se_pipeline.access.static_docs", str(scratch / "documents"), args.base_iri,
                 *(a for p in parts for a in ("--part", p.graph, str(p.path))), "--digests", str(scratch / "digests"), "--langs", args.langs]
    timed(f"static documents ({args.langs})", lambda: subprocess.run(documents, check=True))


if __name__ == "__main__":
    main()
