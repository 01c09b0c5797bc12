"""OWL 2 RL reasoning over the ontology, taxonomies and an example enterprise finds no clash.

Why: an ontology whose domains, ranges and disjointness contradict the data we publish would
make every OWL-aware consumer infer nonsense (or owl:Nothing). owlrl materialises the OWL 2 RL
closure and reports inconsistencies as triples; we check for those, for owl:Nothing members,
and for sameAs/differentFrom clashes. One closure per graph: CPU is shared.
"""
from __future__ import annotations

import owlrl
import pytest
import rdflib
from rdflib.namespace import OWL, RDF

from tests.ontology.ontology_testlib import TAXONOMY_FILES
from se_pipeline import ONTOLOGY_DIR
from se_pipeline.access.ontology_doc import EXAMPLE_TURTLE

ERRNS = rdflib.Namespace("http://www.daml.org/2002/03/agents/agent-ont#")
SEP = rdflib.Namespace("https://w3id.org/se-pipeline/ontology/")
ESS = rdflib.Namespace("http://purl.org/essglobal/vocab/")
ORG = rdflib.Namespace("http://www.w3.org/ns/org#")
E = rdflib.URIRef("https://w3id.org/se-pipeline/id/example/RB-042")


def _base_graph() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in [ONTOLOGY_DIR / "se-pipeline.ttl", *TAXONOMY_FILES]:
        g.parse(path, format="turtle")
    return g


def _close(extra_turtle: str) -> rdflib.Graph:
    g = _base_graph()
    g.parse(data=extra_turtle, format="turtle")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    return g


def _problems(g: rdflib.Graph) -> list[str]:
    problems = [str(m) for node in g.subjects(RDF.type, ERRNS.ErrorMessage) for m in g.objects(node, ERRNS.error)]
    problems += [f"{s} is owl:Nothing" for s in g.subjects(RDF.type, OWL.Nothing)]
    problems += [f"{a} sameAs and differentFrom {b}" for a, b in g.subject_objects(OWL.sameAs)
                 if a != b and ((a, OWL.differentFrom, b) in g or (b, OWL.differentFrom, a) in g)]
    return problems


@pytest.fixture(scope="module")
def closed_example() -> rdflib.Graph:
    return _close(EXAMPLE_TURTLE)


def test_example_enterprise_is_consistent(closed_example: rdflib.Graph) -> None:
    assert _problems(closed_example) == []


def test_inferences_match_the_intended_model(closed_example: rdflib.Graph) -> None:
    g = closed_example
    fed = rdflib.URIRef("https://w3id.org/se-pipeline/id/example/FED-1")
    shop = rdflib.URIRef("https://w3id.org/se-pipeline/id/example/RB-042-shop")
    assert (E, ORG.memberOf, fed) in g                      # sep:memberOf ⊑ org:memberOf
    assert (shop, RDF.type, SEP.Outlet) in g                # range of sep:outlet
    assert (shop, SEP.outletOf, E) in g                     # inverse
    assert (E, ESS.economicSector, rdflib.URIRef("http://purl.org/essglobal/standard/activities-ica/ICA250")) in g
    assert (E, RDF.type, ORG.Organization) in g
    assert (shop, RDF.type, ESS.SSEInitiative) not in g     # outlets are never mistyped as initiatives


def test_reasoner_reports_a_concept_used_as_an_organisation() -> None:
    """The check above would be vacuous if clashes went unreported: a known-bad graph must fail."""
    bad = """
    @prefix sep: <https://w3id.org/se-pipeline/ontology/> .
    @prefix essglobal: <http://purl.org/essglobal/vocab/> .
    <https://w3id.org/se-pipeline/id/x/1> a essglobal:SSEInitiative ;
        sep:practice <https://w3id.org/se-pipeline/id/x/2> .
    <https://w3id.org/se-pipeline/id/x/2> a essglobal:SSEInitiative .
    """
    assert _problems(_close(bad))
