"""The release built from the bundled samples covers the whole solidarity economy.

Issue "An ontology that covers the whole solidarity economy": one sample release (the CLI,
in a subprocess, as a user runs it) must hold at least one enterprise of every kind our
practice taxonomy names, networks with members (some memberships dated), four-language labels
for every concept it uses, and answer `queries/workers_by_country_and_kind.rq` with the same
totals a plain loop over its N-Quads gives. Every sep: term it uses is declared in the ontology.
"""
from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline import ONTOLOGY_DIR
from se_pipeline.access.query import load_store, run_query
from tests.ontology.ontology_testlib import LANGS, REPO_ROOT

SEP = "https://w3id.org/se-pipeline/ontology/"
PRACTICE = "https://w3id.org/se-pipeline/taxonomy/practice/"
ESSGLOBAL = "http://purl.org/essglobal/vocab/"
SCHEMA = "https://schema.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
VOCABULARY_GRAPH = "https://w3id.org/se-pipeline/graph/vocabulary"

#: Every kind of the solidarity economy the sample release must show at least once.
REQUIRED_KINDS = (
    "WorkerCoop", "ConsumerCoop", "ProducerCoop", "MultiStakeholderCoop", "RecuperatedEnterprise", "PopularCoop",
    "CommunityLandTrust", "HousingCoop", "CreditUnion", "SolidarityFinanceFund", "SociallyResponsibleInvestmentFund",
    "FairTradeEnterprise", "CommunitySupportedAgriculture", "FoodHub", "SocialEconomyEnterprise",
    "WorkIntegrationSocialEnterprise", "GreenWorkerCoop",
    # support organisations
    "Incubator", "Federation", "DevelopmentAgency", "TrainingSchool",
    # networks
    "NationalFederation", "SolidarityEconomyNetwork", "NetworkOfNetworks",
)
NETWORK_KINDS = ("NationalFederation", "SolidarityEconomyNetwork", "NetworkOfNetworks")
#: Properties whose objects are concepts that must carry labels in our four languages.
CONCEPT_PROPERTIES = (
    SEP + "practice", SEP + "status", ESSGLOBAL + "organisationalStructure", ESSGLOBAL + "primarySector",
    ESSGLOBAL + "economicSector", ESSGLOBAL + "baseMembershipType", ESSGLOBAL + "qualifier", ESSGLOBAL + "legalForm",
)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("coverage-release")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "se_pipeline.cli", "run", "--output", str(out)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    latest = out / "latest"
    assert (latest / "dataset.nq.gz").is_file(), f"no release built (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return latest.resolve()


@pytest.fixture(scope="module")
def store(release: Path) -> ox.Store:
    return load_store(release)


@pytest.fixture(scope="module")
def quads(release: Path) -> list[ox.Quad]:
    with gzip.open(release / "dataset.nq.gz", "rb") as f:
        return list(ox.parse(f, format=ox.RdfFormat.N_QUADS))


def select(store: ox.Store, query: str) -> list[list[str | None]]:
    result = run_query(store, query)
    assert isinstance(result, tuple)
    return result[1]


def test_every_kind_has_an_enterprise(store: ox.Store) -> None:
    rows = select(store, f"""
        PREFIX sep: <{SEP}> PREFIX essglobal: <{ESSGLOBAL}>
        SELECT ?practice (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e a essglobal:SSEInitiative ; sep:practice ?practice }}
        GROUP BY ?practice""")
    counts = {p: int(n) for p, n in rows}
    missing = [k for k in REQUIRED_KINDS if counts.get(PRACTICE + k, 0) < 1]
    assert not missing, f"kinds without any enterprise in the sample release: {missing}"


def test_network_kinds_are_networks(store: ox.Store) -> None:
    for kind in NETWORK_KINDS:
        rows = select(store, f"""
            PREFIX sep: <{SEP}> PREFIX essglobal: <{ESSGLOBAL}>
            SELECT ?e WHERE {{ ?e a essglobal:Network ; sep:practice <{PRACTICE}{kind}> }}""")
        assert rows, f"no essglobal:Network of kind {kind}"


def test_networks_have_members_and_dated_memberships(store: ox.Store) -> None:
    rows = select(store, f"""
        PREFIX sep: <{SEP}> PREFIX essglobal: <{ESSGLOBAL}>
        SELECT ?network (COUNT(DISTINCT ?member) AS ?n) WHERE {{ ?network a essglobal:Network . ?member sep:memberOf ?network }}
        GROUP BY ?network HAVING (COUNT(DISTINCT ?member) >= 2)""")
    assert rows, "no essglobal:Network with two or more members"
    # a network that is itself a member of a network (network of networks)
    assert select(store, f"""
        PREFIX sep: <{SEP}> PREFIX essglobal: <{ESSGLOBAL}>
        SELECT ?n WHERE {{ ?n a essglobal:Network ; sep:memberOf ?m . ?m a essglobal:Network ;
                           sep:practice <{PRACTICE}NetworkOfNetworks> }} LIMIT 1""")
    dated = select(store, f"""
        PREFIX sep: <{SEP}> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        SELECT ?m ?start WHERE {{ ?e sep:hasMembership ?m . ?m a sep:Membership ; sep:member ?e ;
                                  sep:organisation ?org ; sep:startDate ?start . ?e sep:memberOf ?org .
                                  FILTER(DATATYPE(?start) = xsd:date) }}""")
    assert dated, "no dated sep:Membership"


def test_every_concept_used_has_four_language_labels(store: ox.Store) -> None:
    values = " ".join(f"<{p}>" for p in CONCEPT_PROPERTIES)
    concepts = {c for (c,) in select(store, f"SELECT DISTINCT ?c WHERE {{ VALUES ?p {{ {values} }} ?e ?p ?c }}")}
    assert any(c.startswith(PRACTICE) for c in concepts)
    labels: dict[str, set[str]] = defaultdict(set)
    for q in store.quads_for_pattern(None, ox.NamedNode(PREF_LABEL), None, ox.NamedNode(VOCABULARY_GRAPH)):
        if isinstance(q.object, ox.Literal) and q.object.language:
            labels[q.subject.value].add(q.object.language)
    lacking = {c: sorted(set(LANGS) - labels.get(c, set())) for c in concepts if not set(LANGS) <= labels.get(c, set())}
    assert not lacking, f"concepts without a prefLabel in {LANGS} in the vocabulary graph: {lacking}"


def test_workers_by_country_and_kind_matches_a_plain_count(store: ox.Store, quads: list[ox.Quad]) -> None:
    query = (REPO_ROOT / "queries" / "workers_by_country_and_kind.rq").read_text(encoding="utf-8")
    names, rows = run_query(store, query)  # type: ignore[misc]
    got = {(r[names.index("country")], r[names.index("practice")]):
           (int(r[names.index("enterprises")]), int(r[names.index("totalWorkers")])) for r in rows}

    # independent: a plain loop over the N-Quads (triples of the union of the graphs, deduplicated)
    triples = {(q.subject.value, q.predicate.value, q.object.value) for q in quads}
    practices, address, country, workers = defaultdict(set), {}, {}, defaultdict(list)
    for s, p, o in triples:
        if p == SEP + "practice":
            practices[s].add(o)
        elif p == ESSGLOBAL + "hasAddress":
            address[s] = o
        elif p == SCHEMA + "addressCountry":
            country[s] = o
        elif p == SEP + "workerCount":
            workers[s].append(int(o))
    expected: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for e, kinds in practices.items():
        c = country.get(address.get(e, ""))
        if c is None:
            continue
        for k in kinds:
            expected[(c, k)][0] += 1
            expected[(c, k)][1] += sum(workers.get(e, []))
    assert got == {k: tuple(v) for k, v in expected.items()}
    # the sample answers the question "enterprises and workers by country and kind" for real
    with_workers = [k for k, (_, w) in got.items() if w > 0]
    assert with_workers, "no (country, kind) with any workers counted"
    assert ("CA", SEP.replace("ontology/", "taxonomy/practice/") + "SolidarityFinanceFund") in got


def test_every_sep_term_used_is_declared(release: Path, store: ox.Store) -> None:
    ontology = ox.Store()
    ontology.load(path=str(ONTOLOGY_DIR / "se-pipeline.ttl"), format=ox.RdfFormat.TURTLE)
    declared = {r[0].value for r in ontology.query("SELECT DISTINCT ?t WHERE { ?t a ?type }")}
    used = {r[0].value for r in store.query(
        f"SELECT DISTINCT ?t WHERE {{ GRAPH ?g {{ {{ ?s ?t ?o }} UNION {{ ?s a ?t }} }} FILTER STRSTARTS(STR(?t), '{SEP}') }}")}
    catalog = ox.Store()
    catalog.load(path=str(release / "catalog.ttl"), format=ox.RdfFormat.TURTLE)
    used |= {r[0].value for r in catalog.query(
        f"SELECT DISTINCT ?t WHERE {{ {{ ?s ?t ?o }} UNION {{ ?s a ?t }} FILTER STRSTARTS(STR(?t), '{SEP}') }}")}
    assert SEP + "hasMembership" in used and SEP + "recordsAdded" in used
    assert not sorted(used - declared), f"sep: terms used by the release but not declared: {sorted(used - declared)}"


def test_no_concept_has_two_preflabels_in_one_language(store: ox.Store) -> None:
    """SKOS allows one prefLabel per language; two would make partners' legends pick at random."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for q in store.quads_for_pattern(None, ox.NamedNode(PREF_LABEL), None, ox.NamedNode(VOCABULARY_GRAPH)):
        if isinstance(q.object, ox.Literal) and q.object.language:
            seen[(q.subject.value, q.object.language)].add(q.object.value)
    doubled = {k: sorted(v) for k, v in seen.items() if len(v) > 1}
    assert not doubled, f"concepts with two prefLabels in one language: {doubled}"
