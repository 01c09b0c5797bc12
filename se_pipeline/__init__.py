"""se-pipeline: publish the solidarity economy as one open, trustworthy linked dataset.

The package tree reads as the data flow:

    sources/    one folder per upstream source: mapping file + small adapter + bundled sample
    acquire/    fetching bytes (file:// or http(s)://) with provenance
    canonical/  the one table schema every source maps into, and its normalisers
    identity/   IRI minting and reconciliation across sources and releases
    rdf/        canonical rows -> RDF (N-Triples through one escaping function)
    gate/       SHACL validation and quarantine
    release/    write-once releases, catalog, checksums, atomic `latest`
    access/     SPARQL over a release, serving, landing page
    assets/     the Dagster definitions that wire the stages together
"""
from pathlib import Path

__version__ = "0.1.0"

#: Repository root (the package is installed editable; ontology/ and shapes/ live beside it).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
SHAPES_DIR = PROJECT_ROOT / "shapes"
QUERIES_DIR = PROJECT_ROOT / "queries"
