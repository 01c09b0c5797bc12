"""The fast validator (gate/fast.py) gives pyshacl's verdicts, result for result.

Both validators run on every fixture (valid and invalid) and on seeded, randomly
corrupted enterprise graphs; the multisets of (focus, path, value, shape, constraint
component, message, severity) must be identical. The corrupted graphs are also checked
along the pipeline's own path: N-Triples parsed by Oxigraph, streamed block by block.
"""
from __future__ import annotations

import random
from collections import Counter

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import XSD, Literal, URIRef

from se_pipeline.gate import fast
from se_pipeline.gate.ntriples import to_rdflib
from se_pipeline.gate.shacl import _run, load_shapes
from se_pipeline.gate.violations import term_text

from .helpers import load_folder

SH = rdflib.Namespace(fast.SH)
ESS = rdflib.Namespace("http://purl.org/essglobal/vocab/")
SCHEMA = rdflib.Namespace("https://schema.org/")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
SEP = rdflib.Namespace("https://w3id.org/se-pipeline/ontology/")
GEO = rdflib.Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")
SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
STD = "http://purl.org/essglobal/standard/"
ID = "https://w3id.org/se-pipeline/id/rnd/"


@pytest.fixture(scope="module")
def validator() -> fast.Validator:
    return fast.Validator(load_shapes())


def pyshacl_results(g: rdflib.Graph) -> tuple[bool, Counter]:
    conforms, report = _run(g)
    out: Counter = Counter()
    for r in report.objects(None, SH.result):
        path = report.value(r, SH.resultPath)
        out[(
            term_text(report.value(r, SH.focusNode)), str(path) if path is not None else None,
            term_text(report.value(r, SH.value)), term_text(report.value(r, SH.sourceShape)),
            str(report.value(r, SH.sourceConstraintComponent)),
            " ".join(sorted(str(m) for m in report.objects(r, SH.resultMessage))),
            str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
        )] += 1
    return conforms, out


def fast_counter(results: list[fast.Result]) -> Counter:
    return Counter((fast.term_text(r.focus), r.path, fast.term_text(r.value), fast.term_text(r.shape), r.component,
                    r.message, r.severity) for r in results)


def fast_results(v: fast.Validator, g: rdflib.Graph) -> tuple[bool, Counter]:
    res = v.whole((fast.from_rdflib(s), str(p), fast.from_rdflib(o)) for s, p, o in g)
    return fast.conforms(res), fast_counter(res)


def assert_same(a: tuple[bool, Counter], b: tuple[bool, Counter]) -> None:
    only_py, only_fast = a[1] - b[1], b[1] - a[1]
    assert not only_py and not only_fast, {"pyshacl only": list(only_py)[:10], "fast only": list(only_fast)[:10]}
    assert a[0] == b[0]


@pytest.mark.parametrize("folder", ["valid", "invalid"])
def test_fixtures_identical_results(folder: str, validator: fast.Validator) -> None:
    union = rdflib.Graph()
    for f in load_folder(folder):
        union += f.graph
    a = pyshacl_results(union)
    assert_same(a, fast_results(validator, union))
    if folder == "invalid":
        assert sum(a[1].values()) > 50  # the comparison is not vacuous


def test_each_invalid_fixture_alone(validator: fast.Validator) -> None:
    """Per file too: targets that depend on other nodes (objects of hasAddress) are exact."""
    for f in load_folder("invalid"):
        assert_same(pyshacl_results(f.graph), fast_results(validator, f.graph))


# --- seeded random corruption ----------------------------------------------------------

LANGS = ["en", "EN", "en-GB", "en-gb", "pt-BR", "zh-Hant-TW", "english", "i-klingon", "x-private", "en-GB-oed",
         "EN-123", "e", "de-1996", "sr-Latn-RS", "EN-gb", "fr-CA-x-qc"]
STRINGS = ["Coop", " Coop", "Coop ", "Co\u0007op", "Co\nop", "Coop\n", "", "x" * 1001, "x" * 20, "Ünïcødé ☕",
           "tab\tin", "a@b.org", "a b@c.org", "a@b", "a@b.c0", "first.last@sub.example.co.uk", "x" * 250 + "@b.org",
           "GB", "gb", "G1", "12345678901234567890", "123456789012345678901"]
DATES = ["2020-01-05", "2020-02-30", "2020-2-3", "abc", "1999-12-31", "2020-13-01", "-0044-03-15", "2020-01-05Z"]
INTS = ["0", "5", "-1", "01", "1.5", "abc", " 7", "+3", "99999999999999999999"]
DECIMALS = ["52.07", "-0.13", "91", "-90", "90.0", "1E2", "abc", " 5", "+45.0", "180.0001", "-180", "007.5", ".5",
            "5.", "-0.0", "89.999999999"]
IRIS = [
    STD + "activities-ica/ICA140", STD + "activities-modified/X1", STD + "activities/A1", STD + "qualifiers/Q1",
    STD + "organisational-structure/OS115", STD + "base-membership-type/BMT30", STD + "legal-form/L2",
    "https://w3id.org/se-pipeline/taxonomy/status/Active", "https://w3id.org/se-pipeline/taxonomy/practice/P1",
    "http://example.org/x", "https://example.org/", "ftp://example.org/", "https://w3id.org/se-pipeline/source/rnd",
    "https://w3id.org/se-pipeline/source/bad/x", "http://example.org:8080/a?b#c", "https://" + "x" * 2000,
    "https://w3id.org/se-pipeline/id/rnd/other#address",
]
ENTERPRISE_PREDICATES = [
    SCHEMA.name, SCHEMA.alternateName, DCT.description, DCT.identifier, DCT.source, ESS.organisationalStructure,
    ESS.primarySector, ESS.economicSector, ESS.baseMembershipType, ESS.qualifier, ESS.legalForm, SEP.practice,
    SEP.status, SEP.statusDate, SCHEMA.foundingDate, SCHEMA.dissolutionDate, SEP.memberCount, SEP.workerCount,
    SEP.countDate, SEP.memberOf, SCHEMA.url, SCHEMA.email, GEO.lat, GEO.long, SCHEMA.dateModified, ESS.hasAddress,
]
ADDRESS_PREDICATES = [SCHEMA.streetAddress, SCHEMA.addressLocality, SCHEMA.addressRegion, SCHEMA.postalCode,
                      SCHEMA.addressCountry]


def random_value(rnd: random.Random) -> rdflib.term.Node:
    kind = rnd.randrange(9)
    if kind == 0:
        return Literal(rnd.choice(STRINGS))
    if kind == 1:
        return Literal(rnd.choice(STRINGS), lang=rnd.choice(LANGS))
    if kind == 2:
        return Literal(rnd.choice(DATES), datatype=XSD.date)
    if kind == 3:
        return Literal(rnd.choice(INTS), datatype=XSD.integer)
    if kind == 4:
        return Literal(rnd.choice(DECIMALS), datatype=XSD.decimal)
    if kind == 5:
        return URIRef(rnd.choice(IRIS))
    if kind == 6:
        return Literal(rnd.choice(STRINGS + INTS), datatype=XSD.string)
    if kind == 7:
        return rdflib.BNode()
    return Literal(rnd.choice(DECIMALS + INTS), datatype=rnd.choice([XSD.double, XSD.float, XSD.integer]))


def corrupted_graph(seed: int, n: int) -> rdflib.Graph:
    rnd = random.Random(seed)
    g = rdflib.Graph()
    for i in range(n):
        e = URIRef(f"{ID}{seed}-{i}")
        a = URIRef(f"{e}#address")
        g.add((e, rdflib.RDF.type, rnd.choice([ESS.SSEInitiative] * 4 + [ESS.LocationOfSale, SEP.Other])))
        if rnd.random() < 0.1:
            g.add((e, rdflib.RDF.type, ESS.LocationOfSale))
        g.add((e, SCHEMA.name, Literal(f"Enterprise {i}")))
        g.add((e, DCT.identifier, Literal(str(i))))
        g.add((e, DCT.source, URIRef("https://w3id.org/se-pipeline/source/rnd")))
        g.add((e, ESS.primarySector, URIRef(STD + "activities-ica/ICA140")))
        g.add((e, SCHEMA.foundingDate, Literal("2001-02-03", datatype=XSD.date)))
        g.add((e, SEP.memberCount, Literal("12", datatype=XSD.integer)))
        g.add((e, GEO.lat, Literal("52.07", datatype=XSD.decimal)))
        g.add((e, GEO.long, Literal("-1.5", datatype=XSD.decimal)))
        g.add((e, DCT.description, Literal("About us", lang="en")))
        g.add((e, ESS.hasAddress, a))
        g.add((a, rdflib.RDF.type, ESS.Address))
        g.add((a, SCHEMA.addressCountry, Literal("GB")))
        g.add((a, SCHEMA.postalCode, Literal("AB1 2CD")))
        for _ in range(rnd.choice([0, 0, 1, 2, 3, 5])):
            op = rnd.randrange(6)
            if op == 0:  # drop a triple of this enterprise or its address
                mine = sorted(t for t in g.triples((rnd.choice([e, a]), None, None)))
                if mine:
                    g.remove(rnd.choice(mine))
            elif op == 1:  # add / replace an enterprise value
                p = rnd.choice(ENTERPRISE_PREDICATES)
                if rnd.random() < 0.5:
                    g.remove((e, p, None))
                g.add((e, p, random_value(rnd)))
            elif op == 2:  # address values
                p = rnd.choice(ADDRESS_PREDICATES)
                if rnd.random() < 0.5:
                    g.remove((a, p, None))
                g.add((a, p, random_value(rnd)))
            elif op == 3:  # the address link itself
                g.remove((e, ESS.hasAddress, None))
                g.add((e, ESS.hasAddress, rnd.choice([random_value(rnd), a, URIRef(f"{e}#elsewhere")])))
            elif op == 4:  # types
                g.add((rnd.choice([e, a]), rdflib.RDF.type,
                       rnd.choice([ESS.Address, ESS.LocationOfSale, ESS.SSEInitiative, SCHEMA.PostalAddress])))
            else:  # labels and definitions (language-tag shapes)
                g.add((e, rnd.choice([SKOS.prefLabel, SKOS.definition]), random_value(rnd)))
    return g


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_corruption_identical_results(seed: int, validator: fast.Validator) -> None:
    g = corrupted_graph(seed, 150)
    a = pyshacl_results(g)
    assert sum(a[1].values()) > 30
    assert_same(a, fast_results(validator, g))


def _ox_triples(g: rdflib.Graph) -> list[ox.Triple]:
    """The graph as the pipeline sees it: N-Triples parsed by Oxigraph, grouped by owner."""
    triples = []
    for line in g.serialize(format="nt").splitlines():
        try:
            triples += [q.triple for q in ox.parse(line.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]
        except SyntaxError:  # rdflib writes some terms Oxigraph rejects (e.g. malformed tags): skip them
            continue

    def owner(t: ox.Triple) -> str:
        s = t.subject
        return s.value.partition("#")[0] if isinstance(s, ox.NamedNode) else "_:" + s.value
    return sorted(triples, key=owner)


@pytest.mark.parametrize("seed", [5, 6])
def test_pipeline_path_streaming_identical_results(seed: int, validator: fast.Validator) -> None:
    """Oxigraph terms (lower-cased tags, xsd:string as plain) streamed vs pyshacl on ntriples.to_rdflib."""
    triples = _ox_triples(corrupted_graph(seed, 150))
    a = pyshacl_results(to_rdflib(triples))
    results = fast.validate_ox(validator, lambda: triples)
    assert_same(a, (fast.conforms(results), fast_counter(results)))


def test_streaming_detects_ungrouped_input(validator: fast.Validator) -> None:
    e = f"{ID}u"
    name = str(SCHEMA.name)
    ok = [(None, e, str(rdflib.RDF.type), str(ESS.SSEInitiative)), (None, e + "#address", name, ("x", None, None))]
    assert list(validator.stream(ok))  # one block: name/identifier/source missing
    with pytest.raises(fast.NotGrouped):
        list(validator.stream(ok + [(None, ID + "v", name, ("y", None, None)), (None, e, name, ("z", None, None))]))
    with pytest.raises(fast.NotGrouped):
        list(validator.stream([(None, e, str(ESS.hasAddress), ID + "v#address")]))


def test_subclass_in_data_is_refused(validator: fast.Validator) -> None:
    with pytest.raises(fast.UnsupportedData):
        validator.whole([(ID + "a", "http://www.w3.org/2000/01/rdf-schema#subClassOf", str(ESS.SSEInitiative))])


SHAPE_PREFIX = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


@pytest.mark.parametrize("body", [
    "ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:uniqueLang true ; sh:message \"m\" .",
    "ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path [ sh:inversePath ex:p ] ; sh:message \"m\" .",
    "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:T ; sh:message \"m\" .",
    "ex:S a sh:NodeShape ; sh:targetNode ex:x ; sh:nodeKind sh:IRI ; sh:message \"m\" .",
    "ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:minCount 1 .",
    "ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:message \"m\" ; "
    "sh:sparql [ sh:select \"SELECT $this WHERE { $this $PATH ?v }\" ] .",
    "ex:S a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ; sh:select \"SELECT ?this WHERE { ?this ?p ?o }\" ] .",
    "ex:S sh:path ex:p ; sh:minCount 1 ; sh:message \"m\" .",  # untyped, unreachable: must not be ignored
])
def test_unsupported_constructs_fail_loudly(body: str) -> None:
    g = rdflib.Graph()
    g.parse(data=SHAPE_PREFIX + body, format="turtle")
    with pytest.raises(fast.UnsupportedShape):
        fast.compile_shapes(g)


def test_the_real_shapes_compile(validator: fast.Validator) -> None:
    assert len(validator.c.shapes) >= 40
    assert "https://schema.org/name" in validator.relevant


def test_streaming_without_fallback_identical_results(validator: fast.Validator) -> None:
    """Grouped input (as the RDF stage writes it) is validated block by block, no fallback."""
    def same_owner(t: ox.Triple) -> bool:
        if t.predicate.value != str(ESS.hasAddress) or isinstance(t.object, ox.Literal):
            return True
        return isinstance(t.object, ox.NamedNode) and t.object.value.partition("#")[0] == t.subject.value.partition("#")[0]

    triples = [t for t in _ox_triples(corrupted_graph(7, 200)) if same_owner(t)]
    a = pyshacl_results(to_rdflib(triples))
    results = list(validator.stream(fast.ox_statements(validator, triples)))
    assert sum(a[1].values()) > 30
    assert_same(a, (fast.conforms(results), fast_counter(results)))


def test_gate_ntriples_same_outcome_with_either_backend(tmp_path, monkeypatch) -> None:
    """The whole gate (quarantine, kept triples, verdicts) is the same with SE_PIPELINE_SHACL=pyshacl."""
    from se_pipeline.gate.shacl import gate_ntriples

    triples = _ox_triples(corrupted_graph(8, 120))
    nt = tmp_path / "in.nt"
    ox.serialize(triples, output=str(nt), format=ox.RdfFormat.N_TRIPLES)
    records = {f"{ID}8-{i}": (str(i), i + 2) for i in range(0, 120, 2)}  # some owners are not "records"
    outcomes = {}
    for name in ("fast", "pyshacl"):
        monkeypatch.setenv("SE_PIPELINE_SHACL", name)
        r = gate_ntriples(nt, tmp_path / f"{name}.nt", source="rnd", records=records)
        kept = {str(q) for q in ox.parse(path=str(tmp_path / f"{name}.nt"), format=ox.RdfFormat.N_TRIPLES)}
        outcomes[name] = (r.conforms_before, r.conforms_after, r.kept_enterprises, r.quarantine, r.violations, kept)
    assert outcomes["fast"][3], "the scenario quarantines something"
    assert outcomes["fast"] == outcomes["pyshacl"]
