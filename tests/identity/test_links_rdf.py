from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyoxigraph as ox

from se_pipeline.identity.history import renumbered
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.identity.links_rdf import LINKS_GRAPH, link_iri, write_links
from se_pipeline.identity.match import find_links
from tests.identity.helpers import frames, rec

F = frames(
    rec("coops_uk", "R1", "Unicorn Grocery Limited", postcode="M21 0BN", identifiers=["fca:1R"], lat=53.44, lon=-2.27),
    rec("dotcoop", "d1", "Unicorn Grocery", postcode="M21 0BN", websites=["http://unicorn.coop"], lat=53.4401, lon=-2.2701),
    rec("standard_csv", "R1", "Unicorn \"Grocery\"", identifiers=["fca:1R"], websites=["http://unicorn.coop/about"]),
    rec("coops_uk", "R2", "Hilltop Market", postcode="TA1 4ER", locality="Taunton"),
    rec("dotcoop", "d2", "Hilltop Market Stall", locality="Taunton"),
)


def _store(tmp_path: Path, links: pd.DataFrame) -> ox.Store:
    records = pd.concat(F.values(), ignore_index=True)
    path = tmp_path / "links.nt"
    n = write_links(path, links, records)
    assert n > 0
    store = ox.Store()
    # strict parse into the links named graph
    store.load(path.read_bytes(), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(LINKS_GRAPH))
    return store


def test_links_graph_parses_and_sparql_finds_counterparts(tmp_path: Path) -> None:
    links = find_links(F)
    assert (links["decision"] == "uncertain").any() and (links["decision"] == "same").any()
    store = _store(tmp_path, links)
    me = enterprise_iri("coops_uk", "R1")
    q = f"""
    PREFIX sep: <https://w3id.org/se-pipeline/ontology/>
    SELECT ?other ?evidence ?score ?decision WHERE {{ GRAPH <{LINKS_GRAPH}> {{
      ?l a sep:Link ; sep:evidence ?evidence ; sep:score ?score ; sep:decision ?decision .
      {{ ?l sep:subjectRecord <{me}> ; sep:objectRecord ?other }} UNION {{ ?l sep:objectRecord <{me}> ; sep:subjectRecord ?other }}
    }} }} ORDER BY ?other"""
    rows = {(r["other"].value, r["evidence"].value, float(r["score"].value), r["decision"].value) for r in store.query(q)}
    assert (enterprise_iri("standard_csv", "R1"), "registry-id", 1.0, "same") in rows
    assert any(o == enterprise_iri("dotcoop", "d1") and e == "name+place" for o, e, _, _ in rows)
    assert bool(store.query(f"ASK {{ GRAPH <{LINKS_GRAPH}> {{ <{me}> <http://www.w3.org/2002/07/owl#sameAs> ?x }} }}"))
    # uncertain links get a statement node but no owl:sameAs
    u = links[links["decision"] == "uncertain"].iloc[0]
    assert not bool(store.query(f"ASK {{ GRAPH ?g {{ <{u.iri_a}> <http://www.w3.org/2002/07/owl#sameAs> <{u.iri_b}> }} }}"))
    # one link node per link, IRI from the sorted pair
    a, b = links["iri_a"].iloc[0], links["iri_b"].iloc[0]
    assert link_iri(a, b) == link_iri(b, a)
    assert len(list(store.quads_for_pattern(None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                            ox.NamedNode("https://w3id.org/se-pipeline/ontology/Link")))) == len(links)


def test_enterprise_view_attributes_values_to_records(tmp_path: Path) -> None:
    store = _store(tmp_path, find_links(F))
    q = """
    PREFIX sep: <https://w3id.org/se-pipeline/ontology/>
    PREFIX schema: <https://schema.org/>
    SELECT ?e ?name (COUNT(DISTINCT ?rec) AS ?n) WHERE { GRAPH ?g {
      ?e a sep:Enterprise ; schema:name ?name ; sep:hasRecord ?rec } } GROUP BY ?e ?name"""
    rows = list(store.query(q))
    assert len(rows) == 1 and int(rows[0]["n"].value) == 3
    q2 = """
    PREFIX sep: <https://w3id.org/se-pipeline/ontology/>
    SELECT ?value ?rec WHERE { GRAPH ?g { ?e sep:valueSource ?v . ?v sep:field "postcode" ; sep:value ?value ; sep:fromRecord ?rec } }"""
    got = {(r["value"].value, r["rec"].value) for r in store.query(q2)}
    assert got == {("M21 0BN", enterprise_iri("coops_uk", "R1")), ("M21 0BN", enterprise_iri("dotcoop", "d1"))}


def test_renumbered_links_write_replaces(tmp_path: Path) -> None:
    prev = F["coops_uk"]
    cur = prev.assign(record_id=["R1", "R2-new"])
    links = renumbered(prev, cur)
    store = _store(tmp_path, links)
    q = f"ASK {{ GRAPH ?g {{ <{enterprise_iri('coops_uk', 'R2-new')}> <http://purl.org/dc/terms/replaces> <{enterprise_iri('coops_uk', 'R2')}> }} }}"
    assert bool(store.query(q))


def test_each_subjects_statements_are_on_consecutive_lines(tmp_path: Path) -> None:
    """A record linked twice, an enterprise with attribution nodes and a renumbered
    record: each subject's lines together, so the release writes one JSON-LD node object
    per subject without holding lines back (`release.part_slices`)."""
    links = pd.concat([find_links(F), renumbered(F["coops_uk"], F["coops_uk"].assign(record_id=["R1", "R2-new"]))],
                      ignore_index=True)
    path = tmp_path / "links.nt"
    write_links(path, links, pd.concat(F.values(), ignore_index=True))
    subjects = [q.subject.value for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)]
    runs = [s for k, s in enumerate(subjects) if k == 0 or subjects[k - 1] != s]
    assert len(runs) == len(set(runs))
    same_as = [s for s, q in zip(subjects, ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))
               if q.predicate.value.endswith("#sameAs")]
    assert len(same_as) > len(set(same_as))                  # some record is linked more than once
    assert any("/enterprise/" in s and "#v-" in s for s in subjects)  # attribution nodes
