"""`se-pipeline validate`: SHACL on published data — a release directory or one RDF file."""
from __future__ import annotations

from pathlib import Path

import rdflib

from se_pipeline.gate.errors import GateError
from se_pipeline.gate.release_shacl import validate_release
from se_pipeline.gate.shacl import validate, violations_table

FORMATS = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".jsonld": "json-ld", ".json": "json-ld", ".rdf": "xml"}


def validate_path(target: Path) -> tuple[bool, str]:
    """(conforms, human summary). Raises `GateError` when `target` cannot be read: not a
    release directory or an RDF file of a known type, or a file that does not parse."""
    if target.is_dir():
        if not (target / "dataset.nq.gz").is_file():
            raise GateError(f"{target} is not a release directory (no dataset.nq.gz)")
        conforms, _, table = validate_release(target / "dataset.nq.gz")
    else:
        fmt = FORMATS.get(target.suffix.lower())
        if fmt is None:
            raise GateError(f"unknown RDF file type {target.suffix!r} (known: {', '.join(FORMATS)})")
        if not target.is_file():
            raise GateError(f"no such file or release directory: {target}")
        graph = rdflib.Dataset() if fmt == "nquads" else rdflib.Graph()
        try:
            graph.parse(target, format=fmt)
        except Exception as e:  # rdflib's parsers raise their own error types
            raise GateError(f"{target} does not parse as {fmt}: {type(e).__name__}: {str(e)[:300]}") from None
        data = rdflib.Graph()
        for triple in graph.triples((None, None, None)) if fmt != "nquads" else ((s, p, o) for s, p, o, _ in graph.quads()):
            data.add(triple)
        conforms, _, violations = validate(data)
        table = violations_table(violations)
    return conforms, ("conforms to the shapes" if conforms else "does NOT conform:\n" + table)
