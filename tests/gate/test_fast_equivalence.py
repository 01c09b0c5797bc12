"""The fast validator (gate/fast.py) gives pyshacl's verdicts, result for result.

Both validators run on every fixture (valid and invalid) and on seeded, randomly
corrupted enterprise graphs; the multisets of (focus, path, value, shape, constraint
component, message, severity) must be identical. The corrupted graphs are also checked
along the pipeline's own path: N-Triples parsed by Oxigraph, streamed block by block.
"""
from __future__ import annotations

import logging
import random
import re
from collections import Counter
from dataclasses import dataclass

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.collection
from rdflib import RDF, XSD, Literal, URIRef

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

# What the fuzzer writes is read from the shapes themselves (`ShapeFacts`): the classes they
# target, the predicates (paths) of the shapes on each kind of node, and each path's
# datatypes and IRI patterns; a new shape is fuzzed without anyone editing a list. Below
# are only lexical forms per datatype (valid and broken), and hostile IRIs and tags.
LANGS = ["en", "EN", "en-GB", "en-gb", "pt-BR", "zh-Hant-TW", "english", "i-klingon", "x-private", "en-GB-oed",
         "EN-123", "e", "de-1996", "sr-Latn-RS", "EN-gb", "fr-CA-x-qc"]
STRINGS = ["Coop", " Coop", "Coop ", "Co\u0007op", "Co\nop", "Coop\n", "", "x" * 1001, "x" * 20, "Ünïcødé ☕",
           "tab\tin", "a@b.org", "a b@c.org", "a@b", "a@b.c0", "first.last@sub.example.co.uk", "x" * 250 + "@b.org",
           "GB", "gb", "G1", "12345678901234567890", "123456789012345678901"]
DATES = ["2020-01-05", "2020-02-30", "2020-2-3", "abc", "1999-12-31", "2020-13-01", "-0044-03-15", "2020-01-05Z"]
INTS = ["0", "5", "-1", "01", "1.5", "abc", " 7", "+3", "99999999999999999999"]
DECIMALS = ["52.07", "-0.13", "91", "-90", "90.0", "1E2", "abc", " 5", "+45.0", "180.0001", "-180", "007.5", ".5",
            "5.", "-0.0", "89.999999999"]
#: Lexical forms per datatype; a datatype a shape names that is not here gets all of them.
LEXICAL = {XSD.date: DATES, XSD.integer: INTS, XSD.decimal: DECIMALS, XSD.string: STRINGS + INTS}
#: Datatypes no shape names, so values of the wrong type are fuzzed too.
OFF_TYPES = [XSD.double, XSD.float]
HOSTILE_IRIS = ["http://example.org/x", "https://example.org/", "ftp://example.org/", "http://example.org:8080/a?b#c",
                "https://" + "x" * 2000, "https://w3id.org/se-pipeline/id/rnd/other#address"]


def _local(iri: str) -> str:
    return re.split(r"[/#]", iri.rstrip("/#"))[-1]


def _pattern_iri(pattern: str) -> str | None:
    """An IRI an `^…` IRI pattern accepts (its literal start, the first alternative of a
    group, a code after it), or None when the pattern does not start with one."""
    if not pattern.startswith("^http"):
        return None
    out = ""
    rest = pattern[1:]
    while rest:
        if rest.startswith("\\"):
            out, rest = out + rest[1], rest[2:]
        elif rest.startswith("(") and "|" in rest.split(")", 1)[0]:
            group, rest = rest[1:].split(")", 1)
            out += group.split("|")[0]
        elif rest[0] in "[?*+.$":
            break
        else:
            out, rest = out + rest[0], rest[1:]
    return out + "X1" if out.endswith("/") else out


@dataclass
class ShapeFacts:
    """What the shapes constrain, for the fuzzer."""

    record_classes: list[URIRef]                  # classes targeted, other than those of linked nodes
    linked: dict[URIRef, list[URIRef]]            # targetObjectsOf predicate -> classes its object must have
    paths: dict[URIRef, set[URIRef]]              # target class or linking predicate -> paths of shapes on it
    anywhere: set[URIRef]                         # paths of shapes on any node (targetSubjectsOf, SPARQL targets)
    required: set[URIRef]                         # paths with sh:minCount >= 1
    datatypes: dict[URIRef, set[URIRef]]          # path -> sh:datatype (also in sh:or members)
    iris: dict[URIRef, list[str]]                 # path -> IRIs its sh:in / sh:hasValue / sh:pattern accept
    classes: list[URIRef]                         # every class a shape names

    @classmethod
    def of(cls, g: rdflib.Graph) -> "ShapeFacts":
        facts = cls([], {}, {}, set(), set(), {}, {}, [])
        targeted: set[URIRef] = set()
        must_be: set[URIRef] = set()
        for shape, path in g.subject_objects(SH.path):
            if not isinstance(path, URIRef):
                continue
            owners = [shape, *g.subjects(SH.property, shape)]
            for owner in owners:
                for c in g.objects(owner, SH.targetClass):
                    facts.paths.setdefault(c, set()).add(path)
                    targeted.add(c)
                for q in g.objects(owner, SH.targetObjectsOf):
                    facts.paths.setdefault(q, set()).add(path)
                for q in g.objects(owner, SH.targetSubjectsOf):
                    facts.anywhere |= {path, q}
                if (owner, SH.target, None) in g:
                    facts.anywhere.add(path)
            if any(int(n) >= 1 for n in g.objects(shape, SH.minCount)):
                facts.required.add(path)
            members = [shape] + [m for head in g.objects(shape, SH["or"]) for m in rdflib.collection.Collection(g, head)]
            facts.datatypes.setdefault(path, set()).update(d for m in members for d in g.objects(m, SH.datatype))
            iris = facts.iris.setdefault(path, [])
            for head in g.objects(shape, SH["in"]):
                iris += [str(m) for m in rdflib.collection.Collection(g, head) if isinstance(m, URIRef)]
            iris += [str(v) for v in g.objects(shape, SH.hasValue) if isinstance(v, URIRef)]
            iris += [i for i in (_pattern_iri(str(p)) for p in g.objects(shape, SH.pattern)) if i]
        for q in set(g.objects(None, SH.targetObjectsOf)):
            shapes = set(g.subjects(SH.targetObjectsOf, q)) | set(g.subjects(SH.path, q))
            facts.linked[q] = sorted({c for s in shapes for c in g.objects(s, SH["class"])})
            must_be |= set(facts.linked[q])
        targeted |= set(g.objects(None, SH.targetClass))
        facts.record_classes = sorted(targeted - must_be)
        facts.classes = sorted(targeted | must_be)
        return facts


FACTS = ShapeFacts.of(load_shapes())


def random_value(rnd: random.Random, path: URIRef | None = None) -> rdflib.term.Node:
    """A value of any kind, or (`path` given, mostly) of a kind the shapes ask of `path`."""
    if path is not None and rnd.random() < 0.7:
        datatypes, iris = sorted(FACTS.datatypes.get(path, ())), FACTS.iris.get(path, [])
        if datatypes:
            dt = rnd.choice(datatypes)
            if dt == RDF.langString:
                return Literal(rnd.choice(STRINGS), lang=rnd.choice(LANGS))
            lexical = rnd.choice(LEXICAL.get(dt, STRINGS + DATES + INTS))
            return Literal(lexical) if dt == XSD.string and rnd.random() < 0.5 else Literal(lexical, datatype=dt)
        if iris:
            return URIRef(rnd.choice(iris))
    kind = rnd.randrange(6)
    if kind == 0:
        return Literal(rnd.choice(STRINGS), lang=rnd.choice(LANGS) if rnd.random() < 0.5 else None)
    if kind == 1:
        dt = rnd.choice(sorted({d for ds in FACTS.datatypes.values() for d in ds} - {RDF.langString}))
        return Literal(rnd.choice(LEXICAL.get(dt, STRINGS + DATES + INTS)), datatype=dt)
    if kind == 2:
        return URIRef(rnd.choice(HOSTILE_IRIS + [i for iris in FACTS.iris.values() for i in iris]))
    if kind == 3:
        return rdflib.BNode()
    if kind == 4:
        return Literal(rnd.choice(DECIMALS + INTS), datatype=rnd.choice(OFF_TYPES))
    return Literal(rnd.choice(STRINGS + INTS), datatype=XSD.string)


def corrupted_graph(seed: int, n: int) -> rdflib.Graph:
    """`n` records shaped like the shapes expect (a node of a targeted class, a node per
    linking predicate such as essglobal:hasAddress, typed as the shapes require), with
    values of the kinds the shapes ask, then randomly corrupted."""
    rnd = random.Random(seed)
    g = rdflib.Graph()
    record_paths = sorted(set().union(*(FACTS.paths.get(c, set()) for c in FACTS.record_classes)) | FACTS.anywhere)
    for i in range(n):
        e = URIRef(f"{ID}{seed}-{i}")
        g.add((e, RDF.type, rnd.choice(FACTS.record_classes * 4 + [SEP.Other])))
        if rnd.random() < 0.1:
            g.add((e, RDF.type, rnd.choice(FACTS.record_classes)))
        for p in sorted(FACTS.required & set(record_paths)) + rnd.sample(record_paths, min(8, len(record_paths))):
            g.add((e, p, random_value(rnd, p)))
        linked: dict[URIRef, URIRef] = {}
        for q, classes in sorted(FACTS.linked.items()):
            node = linked[q] = URIRef(f"{e}#{_local(classes[0]).lower() if classes else _local(q)}")
            g.add((e, q, node))
            node_paths = sorted(set().union(FACTS.paths.get(q, set()), *(FACTS.paths.get(c, set()) for c in classes)))
            for c in classes:
                g.add((node, RDF.type, c))
            for p in sorted(FACTS.required & set(node_paths)) + rnd.sample(node_paths, min(2, len(node_paths))):
                g.add((node, p, random_value(rnd, p)))
        nodes = [e, *linked.values()]
        for _ in range(rnd.choice([0, 0, 1, 2, 3, 5])):
            op = rnd.randrange(6)
            if op == 0:  # drop a triple of a node of this record
                mine = sorted(t for t in g.triples((rnd.choice(nodes), None, None)))
                if mine:
                    g.remove(rnd.choice(mine))
            elif op == 1:  # add / replace a record value
                p = rnd.choice(record_paths)
                if rnd.random() < 0.5:
                    g.remove((e, p, None))
                g.add((e, p, random_value(rnd, p if rnd.random() < 0.5 else None)))
            elif op == 2 and linked:  # values of a linked node
                q = rnd.choice(sorted(linked))
                p = rnd.choice(sorted(FACTS.paths.get(q, set()) or record_paths))
                if rnd.random() < 0.5:
                    g.remove((linked[q], p, None))
                g.add((linked[q], p, random_value(rnd, p)))
            elif op == 3 and linked:  # the link itself
                q = rnd.choice(sorted(linked))
                g.remove((e, q, None))
                g.add((e, q, rnd.choice([random_value(rnd), linked[q], URIRef(f"{e}#elsewhere")])))
            elif op == 4:  # types
                g.add((rnd.choice(nodes), RDF.type, rnd.choice(FACTS.classes + [SCHEMA.PostalAddress])))
            else:  # shapes on any node (language tags of labels, coordinates)
                p = rnd.choice(sorted(FACTS.anywhere))
                g.add((e, p, random_value(rnd, p if rnd.random() < 0.5 else None)))
    return g


def test_the_fuzzer_covers_every_shape() -> None:
    """Every path and datatype the shapes name is written by the fuzzer (so a new shape is
    fuzzed), and the facts were really read from the shapes."""
    assert SCHEMA.name in FACTS.required and ESS.hasAddress in FACTS.linked
    assert ESS.Address in FACTS.linked[ESS.hasAddress] and ESS.SSEInitiative in FACTS.record_classes
    assert XSD.date in FACTS.datatypes[SCHEMA.foundingDate] and RDF.langString in FACTS.datatypes[DCT.description]
    assert any(i.startswith(STD + "activities-ica/") for i in FACTS.iris[ESS.primarySector])
    g = rdflib.Graph()
    for seed in (1, 2, 3, 4):
        g += corrupted_graph(seed, 150)
    every_path = set(load_shapes().objects(None, SH.path))
    assert every_path <= set(g.predicates())
    every_datatype = {d for ds in FACTS.datatypes.values() for d in ds}
    written = {o.datatype or (RDF.langString if o.language else XSD.string) for o in g.objects() if isinstance(o, Literal)}
    assert every_datatype <= written


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


UNSUPPORTED = [
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:uniqueLang true ; sh:message \"m\" .", "uniqueLang"),
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ; sh:message \"m\" .",
     "sh:path"),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:T ; sh:message \"m\" . ex:T sh:property [ sh:path ex:q ; sh:minCount 1 ] .",
     "sh:node"),
    ("ex:S a sh:NodeShape ; sh:targetNode ex:x ; sh:nodeKind sh:Literal ; sh:message \"m\" .", "targetNode"),
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:minCount 1 .", "sh:message"),
    ("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:message \"m\" ; "
     "sh:sparql [ sh:select \"SELECT $this ?value WHERE { $this $PATH ?value }\" ] .", "SPARQL constraint"),
    ("ex:S a sh:NodeShape ; sh:target [ a sh:SPARQLTarget ; sh:select \"SELECT ?this WHERE { ?this <http://example.org/p> ?o }\" ] ; "
     "sh:nodeKind sh:BlankNode ; sh:message \"m\" .", "SPARQL target"),
    ("ex:S sh:path ex:p ; sh:minCount 1 ; sh:message \"m\" .", "not a shape the fast validator reached"),
]
DATA = """@prefix ex: <http://example.org/> .
ex:x a ex:C ; ex:p "a"@en, "b"@en, ex:z . ex:w a ex:C . ex:z ex:p ex:x ."""


@pytest.mark.parametrize("body, feature", UNSUPPORTED)
def test_a_construct_not_implemented_sends_its_shape_to_pyshacl(body: str, feature: str, caplog) -> None:
    """The shape is named in a warning with the construct, pyshacl checks it, and the
    verdicts are pyshacl's; the shape beside it stays on the fast path."""
    g = rdflib.Graph().parse(data=SHAPE_PREFIX + body + """
        ex:Fast a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; sh:maxCount 2 ; sh:message "fast" .""",
                             format="turtle")
    with caplog.at_level(logging.WARNING, logger="se_pipeline.gate.fast"):
        v = fast.Validator(g)
    assert [str(n) for n in v.delegated] == ["http://example.org/S"], v.delegated
    assert feature in v.delegated[rdflib.URIRef("http://example.org/S")]
    assert "http://example.org/S" in caplog.text and feature in caplog.text
    assert [s.node for s in v.c.targets.classes["http://example.org/C"]] == ["http://example.org/Fast"]
    data = rdflib.Graph().parse(data=DATA, format="turtle")
    conforms, report = fast.pyshacl_validate(data, g)
    expected = (conforms, fast_counter(fast.results_from_report(report)))
    results = v.whole((fast.from_rdflib(s), str(p), fast.from_rdflib(o)) for s, p, o in data) + v.delegated_results(data)
    assert_same(expected, (fast.conforms(results), fast_counter(results)))
    triples = _ox_triples(data)  # as the gate reads a file: no prefixes for pyshacl's own messages
    conforms, report = fast.pyshacl_validate(to_rdflib(triples), g)
    streamed = fast.validate_ox(v, lambda: triples)
    assert_same((conforms, fast_counter(fast.results_from_report(report))),
                (fast.conforms(streamed), fast_counter(streamed)))


UNIQUE_LANG = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix essglobal: <http://purl.org/essglobal/vocab/> .
<https://w3id.org/se-pipeline/shapes/TestUniqueLanguageShape> a sh:PropertyShape ;
    sh:targetClass essglobal:SSEInitiative ; sh:path dcterms:description ; sh:uniqueLang true ;
    sh:message "One description per language." ."""


@pytest.fixture(scope="module")
def shapes_with_unique_lang() -> rdflib.Graph:
    g = rdflib.Graph()
    g += load_shapes()
    return g.parse(data=UNIQUE_LANG, format="turtle")


@pytest.mark.parametrize("seed", [9, 10])
def test_one_unsupported_shape_among_ours_gives_pyshacls_verdicts(seed: int, shapes_with_unique_lang) -> None:
    """Our shapes plus one using sh:uniqueLang: that shape alone goes through pyshacl, the
    others stay on the fast path, and the results are pyshacl's over all of them."""
    v = fast.Validator(shapes_with_unique_lang)
    assert [str(n) for n in v.delegated] == ["https://w3id.org/se-pipeline/shapes/TestUniqueLanguageShape"]
    assert len(v.c.shapes) == len(fast.Validator(load_shapes()).c.shapes)
    g = corrupted_graph(seed, 120)
    for i in range(0, 120, 3):  # two descriptions in one language
        g.add((URIRef(f"{ID}{seed}-{i}"), DCT.description, Literal(f"one {i}", lang="en")))
        g.add((URIRef(f"{ID}{seed}-{i}"), DCT.description, Literal(f"two {i}", lang="en")))
    triples = _ox_triples(g)
    conforms, report = fast.pyshacl_validate(to_rdflib(triples), shapes_with_unique_lang)
    expected = (conforms, fast_counter(fast.results_from_report(report)))
    assert sum(n for k, n in expected[1].items() if k[3].endswith("TestUniqueLanguageShape")) > 10
    results = fast.validate_ox(v, lambda: triples)
    assert_same(expected, (fast.conforms(results), fast_counter(results)))


def test_the_gate_sends_an_unsupported_shape_to_pyshacl(tmp_path, monkeypatch, shapes_with_unique_lang) -> None:
    """The source gate with the default backend quarantines what pyshacl alone would."""
    from se_pipeline.gate import shacl

    monkeypatch.setattr(shacl, "load_shapes", lambda: shapes_with_unique_lang)
    monkeypatch.setattr(shacl, "fast_validator", lambda: fast.Validator(shapes_with_unique_lang))
    g = corrupted_graph(11, 60)
    g.add((URIRef(f"{ID}11-0"), DCT.description, Literal("again", lang="en")))
    g.add((URIRef(f"{ID}11-0"), DCT.description, Literal("encore", lang="en")))
    nt = tmp_path / "in.nt"
    ox.serialize(_ox_triples(g), output=str(nt), format=ox.RdfFormat.N_TRIPLES)
    records = {f"{ID}11-{i}": (str(i), i + 2) for i in range(60)}
    outcomes = {}
    for name in ("fast", "pyshacl"):
        monkeypatch.setenv("SE_PIPELINE_SHACL", name)
        r = shacl.gate_ntriples(nt, tmp_path / f"{name}.nt", source="rnd", records=records)
        outcomes[name] = (r.conforms_before, r.conforms_after, r.kept_enterprises, r.quarantine, r.violations)
    assert any("uniqueLang" in q.reason or "One description per language" in q.reason for q in outcomes["fast"][3])
    assert outcomes["fast"] == outcomes["pyshacl"]


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
