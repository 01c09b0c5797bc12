"""Static documents for every enterprise IRI, so a plain web server can dereference them.

For `<base><source>/<id>` this writes `<target>/id/<source>/<id>.ttl`, `.jsonld` and
`.html` (the same documents `se-pipeline serve` answers at `/id/<source>/<id>`). The
file name is the IRI's last path segment as-is (record ids are percent-encoded with only
RFC 3986 unreserved characters kept, so a segment never holds `/`). docs/serving.md
shows the nginx / Apache content negotiation that maps `/id/<source>/<id>` to them.
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox

from se_pipeline.access.describe import describe, enterprise_iris, to_html, to_jsonld, to_turtle
from se_pipeline.files import ParallelWriter

EXTENSIONS = {"ttl": "text/turtle", "jsonld": "application/ld+json", "html": "text/html"}


def write_static_documents(dataset_nq_gz: Path, target_dir: Path, base_iri: str) -> int:
    """Write Turtle, JSON-LD and HTML for every record IRI under `base_iri`; returns how many records."""
    if not base_iri.endswith("/"):
        base_iri += "/"
    store = ox.Store()
    with gzip.open(dataset_nq_gz, "rb") as f:
        store.bulk_load(f, format=ox.RdfFormat.N_QUADS)
    count = 0
    label_cache: dict[str, dict[str, str]] = {}
    folders: set[Path] = set()
    with ParallelWriter() as files:
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
            files.write(folder / f"{name}.ttl", to_turtle(d))
            files.write(folder / f"{name}.jsonld", to_jsonld(d))
            files.write(folder / f"{name}.html", to_html(d, base_iri, formats={
                "Turtle": f"{link}.ttl", "JSON-LD": f"{link}.jsonld"}))
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """`python -m se_pipeline.access.static_docs DATASET_NQ_GZ TARGET_DIR BASE_IRI`.

    The release build runs this in a child process, beside its own checks (see
    `se_pipeline.release.build`); a module entry point rather than multiprocessing, so no
    caller's `__main__` is ever re-imported.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(main.__doc__, file=sys.stderr)
        return 2
    write_static_documents(Path(args[0]), Path(args[1]), args[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
