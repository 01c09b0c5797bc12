"""Static documents for every enterprise IRI, so a plain web server can dereference them.

For `<base><source>/<id>` this writes `<target>/id/<source>/<id>.ttl`, `.jsonld` and
`.html` (the same documents `se-pipeline serve` answers at `/id/<source>/<id>`). The
file name is the IRI's last path segment as-is (record ids are percent-encoded with only
RFC 3986 unreserved characters kept, so a segment never holds `/`). docs/serving.md
shows the nginx / Apache content negotiation that maps `/id/<source>/<id>` to them.

From the graphs' files (`--part`, as the release build runs it) documents are written one
source at a time (`access.doc_partitions`), so memory follows the largest source, not
the release; from a published `dataset.nq.gz` (`--dataset`) the whole release is loaded.
"""
from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path
from typing import Mapping
from urllib.parse import quote

import pyoxigraph as ox

from se_pipeline import lifeline
from se_pipeline.access.describe import describe, enterprise_iris, to_html, to_jsonld, to_turtle
from se_pipeline.access.doc_partitions import source_stores
from se_pipeline.files import save_digests, write_file
from se_pipeline.runtime import background, tune_gc

EXTENSIONS = {"ttl": "text/turtle", "jsonld": "application/ld+json", "html": "text/html"}


def release_store(dataset_nq_gz: Path) -> ox.Store:
    """An in-memory store of a published release's N-Quads."""
    store = ox.Store()
    with gzip.open(dataset_nq_gz, "rb") as f:
        store.load(f, format=ox.RdfFormat.N_QUADS)
    return store


def write_static_documents(store: ox.Store, target_dir: Path, base_iri: str,
                           digests: dict[str, str] | None = None, *, only: str | None = None,
                           names: Mapping[str, str] | None = None,
                           label_cache: dict[str, dict[str, str]] | None = None, read_only: bool = False) -> int:
    """Write Turtle, JSON-LD and HTML for every record IRI under `base_iri` (of source
    `only`, if given); returns how many records. `digests` receives each written file's
    path and SHA-256; `names` and `label_cache` go to `describe`; `read_only` creates
    new files read-only (see `files.write_file`)."""
    sums = {} if digests is None else digests
    if not base_iri.endswith("/"):
        base_iri += "/"
    count = 0
    labels = {} if label_cache is None else label_cache
    folders: dict[str, str] = {}  # source -> its folder, made once (not a Path per record)
    for iri in enterprise_iris(store, base_iri):
        rest = iri[len(base_iri):]
        source, _, name = rest.rpartition("/")
        if not source or not name or name in (".", "..") or (only is not None and source != only):
            continue
        folder = folders.get(source)
        if folder is None:
            made = target_dir / "id" / source
            made.mkdir(parents=True, exist_ok=True)
            folder = folders[source] = str(made)
        d = describe(store, iri, labels, names)
        link = quote(name, safe="")
        stem = f"{folder}/{name}"
        sums[stem + ".ttl"] = write_file(stem + ".ttl", to_turtle(d), read_only=read_only)
        sums[stem + ".jsonld"] = write_file(stem + ".jsonld", to_jsonld(d), read_only=read_only)
        sums[stem + ".html"] = write_file(stem + ".html", to_html(
            d, base_iri, formats={"Turtle": f"{link}.ttl", "JSON-LD": f"{link}.jsonld"}), read_only=read_only)
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """`python -m se_pipeline.access.static_docs TARGET_DIR BASE_IRI (--dataset NQ_GZ | --part GRAPH NT ... [--share I/N]) [--digests FILE]`.

    The release build runs this in a child process from the start of the build, on the
    graphs' N-Triples files (see `se_pipeline.release.build`); a module entry point rather
    than multiprocessing, so no caller's `__main__` is ever re-imported. Files are created
    read-only, as the release's files end up.
    """
    parser = argparse.ArgumentParser(prog="python -m se_pipeline.access.static_docs", description=main.__doc__)
    parser.add_argument("target_dir", type=Path)
    parser.add_argument("base_iri")
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--dataset", type=Path, help="a release's dataset.nq.gz")
    inputs.add_argument("--part", nargs=2, action="append", metavar=("GRAPH", "NT"),
                        help="a named graph and its N-Triples file (repeatable)")
    parser.add_argument("--digests", type=Path, help="write the SHA-256 of every file written here")
    parser.add_argument("--share", default="0/1", metavar="I/N",
                        help="with --part: write only the sources dealt to writer I of N (default 0/1: all)")
    args = parser.parse_args(argv)
    lifeline.hold()
    tune_gc()
    background()
    if args.digests:
        args.digests.write_bytes(b"")
    if args.dataset:
        digests: dict[str, str] = {}
        write_static_documents(release_store(args.dataset), args.target_dir, args.base_iri, digests, read_only=True)
        if args.digests:
            save_digests(digests, args.digests, append=True)
        return 0
    base = args.base_iri if args.base_iri.endswith("/") else args.base_iri + "/"
    labels: dict[str, dict[str, str]] = {}
    i, _, n = args.share.partition("/")
    for source, store, routed in source_stores([(g, Path(p)) for g, p in args.part], base, (int(i), int(n))):
        digests = {}
        write_static_documents(store, args.target_dir, base, digests, only=source,
                               names=routed.names, label_cache=labels, read_only=True)
        del store  # before the next source's store is loaded, not after
        if args.digests:  # one source's digests held at a time (10^6 enterprises: 3x10^6 files)
            save_digests(digests, args.digests, append=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
