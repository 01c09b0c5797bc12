"""Static documents for every enterprise IRI, so a plain web server can dereference them.

For `<base><source>/<id>` this writes `<target>/id/<source>/<id>.ttl`, `.jsonld` and
`.html` (the same documents `se-pipeline serve` answers at `/id/<source>/<id>`). The
file name is the IRI's last path segment as-is (record ids are percent-encoded with only
RFC 3986 unreserved characters kept, so a segment never holds `/`). docs/serving.md
shows the nginx / Apache content negotiation that maps `/id/<source>/<id>` to them.
"""
from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox

from se_pipeline import lifeline
from se_pipeline.access.describe import describe, enterprise_iris, to_html, to_jsonld, to_turtle
from se_pipeline.files import save_digests, write_file
from se_pipeline.namespaces import SE_GRAPH
from se_pipeline.rdf.vocabulary import vocabulary_quads
from se_pipeline.runtime import tune_gc

EXTENSIONS = {"ttl": "text/turtle", "jsonld": "application/ld+json", "html": "text/html"}


def release_store(dataset_nq_gz: Path) -> ox.Store:
    """An in-memory store of a published release's N-Quads."""
    store = ox.Store()
    with gzip.open(dataset_nq_gz, "rb") as f:
        store.load(f, format=ox.RdfFormat.N_QUADS)
    return store


def parts_store(parts: list[tuple[str, Path]]) -> ox.Store:
    """The store a release *will* publish, from its graphs' N-Triples files: each file in
    its named graph, plus the vocabulary graph the release build derives from them (the
    same `rdf.vocabulary` code), so documents can be written before the datasets are."""
    store = ox.Store()
    for graph, path in parts:
        try:
            store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
        except OSError as e:  # Oxigraph's message does not name the file
            raise OSError(f"cannot read graph <{graph}> from {path}: {e}") from e
    store.bulk_extend(vocabulary_quads(store, SE_GRAPH + "vocabulary"))
    return store


def write_static_documents(store: ox.Store, target_dir: Path, base_iri: str,
                           digests: dict[str, str] | None = None) -> int:
    """Write Turtle, JSON-LD and HTML for every record IRI under `base_iri`; returns how many
    records. `digests` receives each written file's path and SHA-256."""
    sums = {} if digests is None else digests
    if not base_iri.endswith("/"):
        base_iri += "/"
    count = 0
    label_cache: dict[str, dict[str, str]] = {}
    folders: set[Path] = set()
    for iri in enterprise_iris(store, base_iri):
        rest = iri[len(base_iri):]
        source, _, name = rest.rpartition("/")
        if not source or not name or name in (".", ".."):
            continue
        folder = target_dir / "id" / source
        if folder not in folders:
            folder.mkdir(parents=True, exist_ok=True)
            folders.add(folder)
        d = describe(store, iri, label_cache)
        link = quote(name, safe="")
        stem = f"{folder}/{name}"
        sums[stem + ".ttl"] = write_file(stem + ".ttl", to_turtle(d))
        sums[stem + ".jsonld"] = write_file(stem + ".jsonld", to_jsonld(d))
        sums[stem + ".html"] = write_file(stem + ".html", to_html(
            d, base_iri, formats={"Turtle": f"{link}.ttl", "JSON-LD": f"{link}.jsonld"}))
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """`python -m se_pipeline.access.static_docs TARGET_DIR BASE_IRI (--dataset NQ_GZ | --part GRAPH NT ...) [--digests FILE]`.

    The release build runs this in a child process from the start of the build, on the
    graphs' N-Triples files (see `se_pipeline.release.build`); a module entry point rather
    than multiprocessing, so no caller's `__main__` is ever re-imported.
    """
    parser = argparse.ArgumentParser(prog="python -m se_pipeline.access.static_docs", description=main.__doc__)
    parser.add_argument("target_dir", type=Path)
    parser.add_argument("base_iri")
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--dataset", type=Path, help="a release's dataset.nq.gz")
    inputs.add_argument("--part", nargs=2, action="append", metavar=("GRAPH", "NT"),
                        help="a named graph and its N-Triples file (repeatable)")
    parser.add_argument("--digests", type=Path, help="write the SHA-256 of every file written here")
    args = parser.parse_args(argv)
    lifeline.hold()
    tune_gc()
    store = release_store(args.dataset) if args.dataset else parts_store([(g, Path(p)) for g, p in args.part])
    digests: dict[str, str] = {}
    write_static_documents(store, args.target_dir, args.base_iri, digests)
    if args.digests:
        save_digests(digests, args.digests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
