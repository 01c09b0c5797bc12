"""`se-pipeline validate`: SHACL on published data — a release directory or one RDF file."""
from __future__ import annotations

from pathlib import Path

import rdflib

from se_pipeline.gate.release_shacl import validate_release
from se_pipeline.gate.shacl import validate, violations_table

FORMATS = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".jsonld": "json-ld", ".json": "json-ld", ".rdf": "xml"}


def validate_path(target: Path) -> tuple[bool, str]:
    """(conforms, human summary)."""
    if target.is_dir():
        conforms, _, table = validate_release(target / "dataset.nq.gz")
    else:
        fmt = FORMATS.get(target.suffix.lower())
        if fmt is None:
            return False, f"unknown RDF file type {target.suffix!r} (known: {', '.join(FORMATS)})"
        graph = rdflib.Dataset() if fmt == "nquads" else rdflib.Graph()
        graph.parse(target, format=fmt)
        data = rdflib.Graph()
        for triple in graph.triples((None, None, None)) if fmt != "nquads" else ((s, p, o) for s, p, o, _ in graph.quads()):
            data.add(triple)
        conforms, _, violations = validate(data)
        table = violations_table(violations)
    return conforms, ("conforms to the shapes" if conforms else "does NOT conform:\n" + table)
