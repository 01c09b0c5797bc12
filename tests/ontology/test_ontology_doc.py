"""The ontology HTML page is generated, multilingual, self-contained and escapes data.

Why: the page is published as-is; a label holding markup must render as text, and the page
must not pull scripts, styles or fonts from elsewhere.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pyoxigraph as ox

from se_pipeline.access.ontology_doc import Concept, Scheme, page, render_html, write_ontology_html
from se_pipeline.access.pages import render

HOSTILE = '<script>alert("x")</script>'


def test_page_is_written_with_four_language_labels(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "ontology.html"
    write_ontology_html(out)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    row = re.search(r'<tr id="t-sept-practice-WorkerCoop">.*?</tr>', page, re.S)
    assert row, "WorkerCoop row missing"
    for label in ("Worker co-operative", "Coopérative de travail associé", "Cooperativa de trabajo asociado",
                  "Cooperativa de trabalho"):
        assert label in row.group(0)
    assert "Withdrawn by source" in page and "Retirada pela fonte" in page
    assert "sep:SupportOrganisation" in page and "sep:memberCount" in page
    assert "essglobal:organisationalStructure" in page
    assert "Riverside Bakery" in page                       # example enterprise
    assert "Domain" in page and "Range" in page


def test_page_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "o.html"
    write_ontology_html(out)
    page = out.read_text(encoding="utf-8").lower()
    assert "<script" not in page
    assert not re.search(r"<(link(?! rel=\"alternate\" hreflang=)|img|iframe|object|embed)\b", page)  # alternates load nothing
    assert " src=" not in page and "@import" not in page and "url(" not in page


def test_concept_table_escapes_hostile_label() -> None:
    scheme = Scheme("https://w3id.org/se-pipeline/taxonomy/practice/", {"en": "Practices"}, "defs")
    evil = Concept("https://w3id.org/se-pipeline/taxonomy/practice/Evil",
                   {"en": HOSTILE, "fr": "a & b", "es": '"quoted"', "pt": "<b>x</b>"}, HOSTILE)
    evil.matches.append(("relatedMatch", "javascript:alert(1)"))
    scheme.concepts = [(evil, 0)]
    html = render("ontology.html", **page([], [scheme], example="x"))
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "a &amp; b" in html
    assert 'href="javascript:' not in html


def test_render_escapes_hostile_data_end_to_end() -> None:
    skos = "http://www.w3.org/2004/02/skos/core#"
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    scheme, c = ox.NamedNode("https://example.org/s/"), ox.NamedNode("https://example.org/s/C")
    triples = [
        ox.Triple(scheme, rdf_type, ox.NamedNode(skos + "ConceptScheme")),
        ox.Triple(scheme, ox.NamedNode(skos + "prefLabel"), ox.Literal(HOSTILE, language="en")),
        ox.Triple(c, rdf_type, ox.NamedNode(skos + "Concept")),
        ox.Triple(c, ox.NamedNode(skos + "inScheme"), scheme),
        ox.Triple(c, ox.NamedNode(skos + "prefLabel"), ox.Literal(HOSTILE, language="fr")),
        ox.Triple(c, ox.NamedNode(skos + "definition"), ox.Literal(HOSTILE, language="en")),
    ]
    page = render_html(triples, example=HOSTILE)
    assert "<script" not in page.lower()
    assert page.count("&lt;script&gt;") >= 4


def test_page_documents_the_essglobal_profile(tmp_path: Path) -> None:
    from se_pipeline.rdf.profile import PROFILE

    path = tmp_path / "ontology.html"
    write_ontology_html(path)
    page = path.read_text(encoding="utf-8")
    assert 'id="essglobal-profile"' in page
    assert all(f"<code>{html.escape(t.property)}</code>" in page for t in PROFILE)
