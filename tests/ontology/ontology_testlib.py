"""Shared paths and parsers for the ontology tests (imported as `tests.ontology.ontology_testlib`).

The ESSGlobal reference lives in the `shared/` folder beside the repository, which a user's
fresh clone does not have: tests that need it skip with a reason instead of failing.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline import ONTOLOGY_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = REPO_ROOT / ".." / "shared"
ESSGLOBAL_REF = SHARED_DIR / "reference" / "essglobal"
ESSGLOBAL_BASE = "http://purl.org/essglobal/"
STANDARD = ESSGLOBAL_BASE + "standard/"
#: The ESSGlobal schemes whose every concept must have labels in our four languages, from our own
#: `ontology/essglobal-labels.ttl` alone (the reference is not there at run time).
LABELLED_SCHEMES = ("organisational-structure", "activities-ica", "base-membership-type", "qualifiers", "legal-form",
                    "activities-modified")
LANGS = ("en", "fr", "es", "pt")
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

ONTOLOGY_FILES = sorted(ONTOLOGY_DIR.rglob("*.ttl"))
TAXONOMY_FILES = sorted((ONTOLOGY_DIR / "taxonomy").glob("*.ttl"))


def parse(path: Path) -> list[ox.Triple]:
    """Strict Turtle parse, as the pipeline does."""
    return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]


def require_reference() -> Path:
    """The ESSGlobal reference folder, or skip the calling test."""
    if not ESSGLOBAL_REF.is_dir():
        pytest.skip(f"ESSGlobal reference not available: {ESSGLOBAL_REF.resolve()} is absent "
                    "(../shared/ sits beside the repository on development machines only)")
    return ESSGLOBAL_REF


@lru_cache(maxsize=1)
def reference_triples() -> tuple[ox.Triple, ...]:
    """All triples of the ESSGlobal reference (vocabulary and every scheme)."""
    return tuple(t for f in sorted(require_reference().rglob("*.ttl")) for t in parse(f))
