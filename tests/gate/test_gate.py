"""gate_ntriples end to end: quarantine exactly the violating enterprises, keep the rest.

Each test here costs one or two pyshacl runs, so the scenarios are packed into few graphs.
"""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from se_pipeline.gate.errors import GateError
from se_pipeline.gate.shacl import GateResult, Violation, gate_ntriples, report_turtle, violations_table
from se_pipeline.namespaces import SH

ID = "https://w3id.org/se-pipeline/id/t/"
PREFIXES = """@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix schema: <https://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix geo: <http://www.w3.org/2003/01/geo/wgs84_pos#> .
@prefix essglobal: <http://purl.org/essglobal/vocab/> .
"""


def enterprise(key: str, extra: str = "", address: str = 'schema:addressCountry "GB"', name: str = '"Coop"') -> str:
    """Turtle of one enterprise with an address; `extra` adds predicate-object pairs."""
    e = f"<{ID}{key}>"
    return (f"{e} a essglobal:SSEInitiative ; schema:name {name} ; dcterms:identifier \"{key}\" ;\n"
            f"  dcterms:source <https://w3id.org/se-pipeline/source/t> ; essglobal:hasAddress <{ID}{key}#address>"
            f"{' ; ' + extra if extra else ''} .\n"
            f"<{ID}{key}#address> a essglobal:Address ; {address} .\n")


def write_nt(path: Path, turtle: str) -> set[ox.Triple]:
    triples = {q.triple for q in ox.parse(PREFIXES + turtle, format=ox.RdfFormat.TURTLE)}
    ox.serialize(triples, output=str(path), format=ox.RdfFormat.N_TRIPLES)
    return triples


def read_nt(path: Path) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)}


def subjects(triples: set[ox.Triple]) -> set[str]:
    return {t.subject.value for t in triples}


def records(*keys: str) -> dict[str, tuple[str, int]]:
    return {ID + k: (k, i + 2) for i, k in enumerate(keys)}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[GateResult, set[ox.Triple], set[ox.Triple]]:
    d = tmp_path_factory.mktemp("gate")
    before = write_nt(d / "in.nt", "".join([
        enterprise("good1", 'geo:lat 52.1 ; geo:long -1.5'),
        enterprise("good2"),
        enterprise("badcountry", address='schema:addressCountry "gb"'),          # violation on E#address only
        enterprise("badlat", 'geo:lat 123.4 ; geo:long 0.0'),                     # violation on E
        enterprise("twice", 'schema:email "nope"', address='schema:addressCountry "XXX"'),  # two fields
        # address as text: the literal is also a (failing) focus node of AddressShape, but only
        # the enterprise is quarantined; its own unused #address node goes with it.
        enterprise("textaddr", 'essglobal:hasAddress "1 High Street"'),
    ]))
    result = gate_ntriples(d / "in.nt", d / "out.nt", source="t",
                           records=records("good1", "good2", "badcountry", "badlat", "twice", "textaddr"))
    return result, before, read_nt(d / "out.nt")


def test_gate_removes_exactly_the_violating_enterprises(mixed) -> None:
    result, before, after = mixed
    bad = {ID + k for k in ("badcountry", "badlat", "twice", "textaddr")}
    assert not result.conforms_before
    assert result.conforms_after
    assert result.kept_enterprises == 2
    assert {t for t in before if t.subject.value.partition("#")[0] not in bad} == after
    assert not any(s.partition("#")[0] in bad for s in subjects(after))
    assert {ID + "good1", ID + "good1#address", ID + "good2", ID + "good2#address"} == subjects(after)


def test_gate_quarantine_records_point_at_the_source(mixed) -> None:
    result, _, _ = mixed
    q = {r.record_id: r for r in result.quarantine}
    assert set(q) == {"badcountry", "badlat", "twice", "textaddr"}
    assert len(result.quarantine) == 4
    assert all(r.source == "t" for r in q.values())
    assert (q["badcountry"].line, q["badlat"].line, q["twice"].line) == (4, 5, 6)
    assert q["badcountry"].field == "addressCountry"
    assert "ISO 3166-1 two-letter code" in q["badcountry"].reason and "'gb'" in q["badcountry"].reason
    assert q["badlat"].field == "lat" and "between -90 and 90" in q["badlat"].reason and "123.4" in q["badlat"].reason
    assert set(q["twice"].field.split("|")) == {"email", "addressCountry"}
    assert "; " in q["twice"].reason and "'nope'" in q["twice"].reason and "'XXX'" in q["twice"].reason
    assert q["textaddr"].field == "hasAddress" and q["textaddr"].line == 7
    shapes = {v.shape.rsplit("/", 1)[1] for v in result.violations}
    assert shapes == {"AddressCountryShape", "LatitudeValueShape", "EnterpriseEmailShape",
                      "EnterpriseAddressLinkShape", "AddressShape"}


def test_gate_passes_a_conforming_graph_through(tmp_path: Path) -> None:
    before = write_nt(tmp_path / "in.nt", enterprise("a") + enterprise("b", 'dcterms:description "Hola"@es'))
    result = gate_ntriples(tmp_path / "in.nt", tmp_path / "out.nt", source="t", records=records("a", "b"))
    assert result.conforms_before and result.conforms_after
    assert result.quarantine == [] and result.violations == [] and result.kept_enterprises == 2
    assert read_nt(tmp_path / "out.nt") == before


def test_gate_rejects_unparseable_input(tmp_path: Path) -> None:
    (tmp_path / "in.nt").write_text('<https://x/a> <https://x/p> "unterminated .\n')
    with pytest.raises(GateError):
        gate_ntriples(tmp_path / "in.nt", tmp_path / "out.nt", source="t", records={})
    assert not (tmp_path / "out.nt").exists()


def test_hostile_values_pass_or_fail_for_the_right_reason(tmp_path: Path) -> None:
    big = "x" * 100_000
    write_nt(tmp_path / "in.nt", "".join([
        enterprise("script", 'dcterms:description "<script>alert(1)</script>\\n\\ttab"@en',
                   name='"<script>alert(\'x\')</script> Co-op"'),
        enterprise("bell", name='"Bell\\u0007Co-op"'),
        enterprise("vt", 'dcterms:description "vertical\\u000Btab"'),
        enterprise("huge", f'dcterms:description "{big}"'),
        enterprise("nul", 'schema:alternateName "fine", "also fine \\u0000 here"'),  # NUL is legal in alternate names
    ]))
    result = gate_ntriples(tmp_path / "in.nt", tmp_path / "out.nt", source="t",
                           records=records("script", "bell", "vt", "huge", "nul"))
    by_id = {r.record_id: r for r in result.quarantine}
    assert set(by_id) == {"bell", "vt", "huge"}
    assert by_id["bell"].field == "name" and "\\x07" in by_id["bell"].reason
    assert by_id["vt"].field == "description" and "control characters" in by_id["vt"].reason
    assert by_id["huge"].field == "description" and "(100000 chars)" in by_id["huge"].reason
    assert len(by_id["huge"].reason) < 1000
    reasons = {(v.focus_node.rsplit("/", 1)[1], v.shape.rsplit("/", 1)[1]) for v in result.violations}
    assert reasons == {("bell", "EnterpriseNameShape"), ("vt", "EnterpriseDescriptionShape"),
                       ("huge", "EnterpriseDescriptionShape")}
    assert result.conforms_after and result.kept_enterprises == 2
    kept = subjects(read_nt(tmp_path / "out.nt"))
    assert ID + "script" in kept and ID + "nul" in kept


def test_report_turtle_has_exactly_one_conforms(tmp_path: Path) -> None:
    g = rdflib.Graph()
    g.parse(data=PREFIXES + enterprise("r", address='schema:addressCountry "gb"'), format="turtle")
    report = rdflib.Graph()
    report.parse(data=report_turtle(g), format="turtle")
    verdicts = list(report.objects(None, rdflib.URIRef(SH + "conforms")))
    assert verdicts == [rdflib.Literal(False)]
    assert len(list(report.objects(None, rdflib.URIRef(SH + "result")))) == 1


def test_violations_table_groups_by_shape_and_path() -> None:
    def v(i: int, shape: str, path: str | None) -> Violation:
        return Violation(f"{ID}{i}", path, "x|y", f"https://w3id.org/se-pipeline/shapes/{shape}", "bad | value", "Violation")

    found = [v(i, "AddressCountryShape", "https://schema.org/addressCountry") for i in range(5)]
    found += [v(9, "EnterpriseShape", None)]
    table = violations_table(found)
    lines = table.splitlines()
    assert lines[2].startswith("| AddressCountryShape | addressCountry | Violation | 5 |")
    assert lines[2].count(ID) == 3  # at most 3 examples
    assert "| EnterpriseShape | (node) | Violation | 1 |" in table
    assert "bad \\| value" in table
    assert violations_table([]) == "No SHACL violations."
    assert "1 more" in violations_table(found, limit=1)
