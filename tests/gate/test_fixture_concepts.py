"""Valid gate fixtures use only concepts that exist in our taxonomies.

Why: the SHACL shapes check only the IRI pattern of sep:practice / sep:status, so a fixture
naming a concept we never defined (e.g. `practice/worker-coop`) would pass the gate and then
teach readers a code that does not exist.
"""
from __future__ import annotations

import pyoxigraph as ox

from se_pipeline import ONTOLOGY_DIR
from tests.gate.helpers import FIXTURES

TAXONOMY = "https://w3id.org/se-pipeline/taxonomy/"
SKOS_CONCEPT = "http://www.w3.org/2004/02/skos/core#Concept"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _our_concepts() -> set[str]:
    return {q.subject.value for f in sorted((ONTOLOGY_DIR / "taxonomy").glob("*.ttl"))
            for q in ox.parse(path=str(f), format=ox.RdfFormat.TURTLE)
            if q.predicate.value == RDF_TYPE and q.object.value == SKOS_CONCEPT}


def test_valid_fixtures_use_real_taxonomy_concepts() -> None:
    known = _our_concepts()
    assert TAXONOMY + "practice/WorkerCoop" in known and TAXONOMY + "status/Active" in known
    unknown: dict[str, set[str]] = {}
    used = 0
    for path in sorted((FIXTURES / "valid").glob("*.ttl")):
        for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            for term in (q.subject, q.object):
                if isinstance(term, ox.NamedNode) and term.value.startswith(TAXONOMY) \
                        and term.value.rsplit("/", 1)[0] + "/" in (TAXONOMY + "practice/", TAXONOMY + "status/"):
                    used += 1
                    if term.value not in known:
                        unknown.setdefault(path.name, set()).add(term.value)
    assert not unknown, f"taxonomy concepts absent from ontology/taxonomy/: {unknown}"
    assert used >= 3
