"""Digital Commons' own SPARQL, run as is against the sample release.

The queries in `partner_queries/` are Mykomap's dataset and vocabulary queries and the
map-app query se-open-data generates, with only their prefixes pointed at our namespaces
(each file names the repository, path and commit it was copied from). They run with
Oxigraph the way a Mykomap map runs them: per dataset, the dataset's graph as the default
graph (Mykomap's `defaultGraphUri`); the vocabulary query over the union of all graphs (a
map configured without a graph). Expected values come from our schema.org statements,
so the test fails if the profile and the record disagree.
"""
from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline.namespaces import ESS_STANDARD, ESSGLOBAL, GEO, RDF_TYPE, SCHEMA, SE_GRAPH, SEPT, SKOS

QUERIES = Path(__file__).parent / "partner_queries"
SCHEMES = [ESS_STANDARD + s + "/" for s in (
    "organisational-structure", "activities-ica", "activities-modified", "base-membership-type", "qualifiers",
    "legal-form")] + [SEPT + "practice/", SEPT + "status/"]
LANGS = ["EN", "FR", "ES", "PT"]


@pytest.fixture(scope="module")
def store(sample_release: Path) -> ox.Store:
    s = ox.Store()
    with gzip.open(sample_release / "dataset.nq.gz", "rb") as f:
        s.load(f, format=ox.RdfFormat.N_QUADS)
    return s


def source_graphs(store: ox.Store) -> list[str]:
    return sorted(g.value for g in store.named_graphs()
                  if g.value.startswith(SE_GRAPH) and g.value.rsplit("/", 1)[1] not in ("links", "vocabulary"))


def records(store: ox.Store, graph: str) -> dict[str, dict[str, list[str]]]:
    """Each initiative of `graph` -> its schema:name, schema:url, geo:lat, geo:long values."""
    out: dict[str, dict[str, list[str]]] = {}
    g = ox.NamedNode(graph)
    for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(ESSGLOBAL + "SSEInitiative"), g):
        e = q.subject
        out[e.value] = {key: [t.object.value for t in store.quads_for_pattern(e, ox.NamedNode(p), None, g)]
                        for key, p in (("name", SCHEMA + "name"), ("url", SCHEMA + "url"), ("lat", GEO + "lat"),
                                       ("long", GEO + "long"))}
    return out


def rows(store: ox.Store, query: str, graph: str | None) -> list[dict[str, str]]:
    kwargs = {"default_graph": ox.NamedNode(graph)} if graph else {"use_default_graph_as_union": True}
    solutions = store.query(query, **kwargs)
    names = [v.value for v in solutions.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in solutions]


def test_mykomap_dataset_query_finds_every_located_enterprise_once(store: ox.Store) -> None:
    query = (QUERIES / "mykomap_dataset_query.rq").read_text(encoding="utf-8")
    checked = 0
    for graph in source_graphs(store):
        expected = records(store, graph)
        found = rows(store, query, graph)
        # one row per record: no OPTIONAL over an unbound variable multiplies anything
        assert len(found) == len({r["uri"] for r in found}) == len(expected), graph
        for r in found:
            rec = expected[r["uri"]]
            assert [r["name"]] == rec["name"]
            assert (r.get("www") in rec["url"]) if rec["url"] else "www" not in r
            if rec["lat"]:
                assert (float(r["lat"]), float(r["lng"])) == (float(rec["lat"][0]), float(rec["long"][0]))
                assert r["within"].endswith("#address")
                checked += 1
            else:
                assert "lat" not in r and "lng" not in r
    assert checked > 150  # most of the sample is geolocated


def test_se_open_data_map_app_query_finds_every_located_enterprise_once(store: ox.Store) -> None:
    template = (QUERIES / "se_open_data_map_app_query.rq").read_text(encoding="utf-8")
    for graph in source_graphs(store):
        expected = records(store, graph)
        located = {iri: rec for iri, rec in expected.items() if rec["lat"]}
        found = rows(store, template.replace("{limit}", str(len(expected))), graph)
        assert Counter(r["uri"] for r in found) == Counter(list(located)), graph
        for r in found:
            rec = located[r["uri"]]
            assert [r["name"]] == rec["name"]
            assert (r.get("www") in rec["url"]) if rec["url"] else "www" not in r
            assert (float(r["lat"]), float(r["lng"])) == (float(rec["lat"][0]), float(rec["long"][0]))


def vocab_query() -> str:
    """The query `generate_query` in get_vocabs.php builds for SCHEMES and LANGS."""
    template = (QUERIES / "mykomap_vocab_query.rq").read_text(encoding="utf-8")
    return (template
            .replace("{scheme_list}", ",\n    ".join(f"<{s}>" for s in SCHEMES))
            .replace("{scheme_constraints}", "\n    UNION\n    ".join(f"{{ ?term skos:inScheme <{s}> }}" for s in SCHEMES))
            .replace("{langs_filter_expr}", " || ".join(f'langMatches(lang(?label), "{lang.lower()}")' for lang in LANGS)))


def test_mykomap_vocab_query_gives_titles_and_labels_of_every_concept_used(store: ox.Store) -> None:
    solutions = store.query(vocab_query(), use_default_graph_as_union=True)
    titles: dict[str, set[str]] = {}
    terms: dict[str, set[str]] = {}
    for s in solutions:
        into = titles if s["term"] is None else terms
        key = s["scheme"].value if s["term"] is None else s["term"].value
        into.setdefault(key, set()).add(s["label"].language)
    used = {r["o"].value for r in store.query(
        "SELECT DISTINCT ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g != <%svocabulary>) }" % SE_GRAPH)
        if isinstance(r["o"], ox.NamedNode) and any(r["o"].value.startswith(s) for s in SCHEMES)}
    assert used, "the sample uses concepts of the configured schemes"
    schemes_used = {next(s for s in SCHEMES if c.startswith(s)) for c in used}
    for scheme in schemes_used:  # what get_vocabs.php reads as each vocabulary's title
        assert titles.get(scheme) == {"en", "fr", "es", "pt"}, scheme
    for concept in used:  # and as each term's label, in every language of the map
        assert terms.get(concept) == {"en", "fr", "es", "pt"}, concept
    assert all(store.query(f"ASK {{ <{c}> <{SKOS}inScheme> ?s }}", use_default_graph_as_union=True) for c in used)


def test_every_profile_property_is_in_the_release(store: ox.Store) -> None:
    """What docs/essglobal-profile.md and ontology.html list is what the release states."""
    from se_pipeline.namespaces import PREFIXES
    from se_pipeline.rdf.profile import PROFILE

    for term in PROFILE:
        for listed in term.property.split(", "):
            prefix, _, local = listed.split(" ")[0].partition(":")
            iri = PREFIXES[prefix] + local
            assert store.query(f"ASK {{ GRAPH ?g {{ ?s <{iri}> ?o }} }}"), listed
