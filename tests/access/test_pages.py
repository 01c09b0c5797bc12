"""Every HTML page comes from the Jinja2 templates of `access/templates/`, through one
environment: autoescaped, strict about undefined variables, one shared layout, and data
never becomes markup or a `javascript:` link.

Why: these pages are published and served; an enterprise name or a concept label is data a
source (or an attacker who controls one) fills in.
"""
from __future__ import annotations

import re

import jinja2
import pyoxigraph as ox
import pytest

from se_pipeline.access import landing, ontology_doc, pages
from se_pipeline.access.describe import Description, to_html
from se_pipeline.namespaces import DCTERMS, DEFAULT_DATA_BASE, ESSGLOBAL, OWL, RDF_TYPE, SCHEMA, SEP

N, L = ox.NamedNode, ox.Literal
E = N(DEFAULT_DATA_BASE + "evil/E1")
SCRIPT = '<script>alert("x")</script>'
ATTRIBUTE = "' onmouseover='alert(1)"
SECTOR = "http://purl.org/essglobal/standard/activities-ica/ICA140"


def _description(name: str) -> Description:
    return Description(E.value, (
        ox.Triple(E, N(RDF_TYPE), N(ESSGLOBAL + "SSEInitiative")),
        ox.Triple(E, N(SCHEMA + "name"), L(name)),
        ox.Triple(E, N(DCTERMS + "description"), L(SCRIPT + "\nsecond line", language="fr")),
        ox.Triple(E, N(DCTERMS + "source"), N("javascript:alert(3)")),
        ox.Triple(E, N(SCHEMA + "url"), N("javascript:alert(1)")),
        ox.Triple(E, N(SCHEMA + "url"), N("https://example.org/a?b=1&c='x'")),
        ox.Triple(E, N(ESSGLOBAL + "primarySector"), N(SECTOR)),
        ox.Triple(E, N(OWL + "sameAs"), N("javascript:alert(2)")),
        ox.Triple(E, N(OWL + "sameAs"), N(DEFAULT_DATA_BASE + "other/X1")),
    ), {SECTOR: {"en": SCRIPT, "fr": ATTRIBUTE}}, [("javascript:alert(2)", ""), (DEFAULT_DATA_BASE + "other/X1", SCRIPT)])


def _page_of(name: str, **kw: object) -> str:
    return to_html(_description(name), DEFAULT_DATA_BASE, **kw).decode("utf-8")


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


@pytest.mark.parametrize("name", [SCRIPT, ATTRIBUTE, '"><img src=x onerror=alert(1)>', "a & b"])
def test_enterprise_page_shows_hostile_values_as_text(name: str) -> None:
    html = _page_of(name, formats={"Turtle": "E1.ttl"})
    assert "<script" not in html.lower() and "<img" not in html and "onmouseover='" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>second line" in html  # line breaks shown, text escaped
    assert f"<title>{pages.escape(name)}".replace("&#34;", "&quot;").replace("&#39;", "&#x27;") in html
    hrefs = _hrefs(html)
    assert not [h for h in hrefs if not h.startswith(("https://", "http://", "/id/", "E1.ttl", "?lang="))], hrefs
    assert "javascript:alert(1)" in html and "javascript:alert(2)" in html  # shown, not linked
    assert 'href="https://example.org/a?b=1&amp;c=&#x27;x&#x27;"' in html
    assert 'href="/id/other/X1"' in html


def test_server_formats_and_language_reach_the_page() -> None:
    html = _page_of("Co-op", formats={"Turtle": "?format=turtle", "N-Triples": "?format=ntriples"}, lang="fr")
    assert html.startswith('<!DOCTYPE html>\n<html lang="fr">')
    assert '<p class="formats">Aussi en : <a href="?format=turtle">Turtle</a> <a href="?format=ntriples">N-Triples</a></p>' in html


def test_a_records_pages_are_the_pages_made_one_by_one() -> None:
    """The static writer renders one record in every language from one description, which
    keeps what does not depend on the language between its pages: each page must be the
    page a fresh description gives in that language (and a base IRI of its own)."""
    alternates = pages.file_alternates("E1.html")
    shared = _description("Co-op")
    for lang in pages.LANGS:
        page = to_html(shared, DEFAULT_DATA_BASE, lang=lang, alternates=alternates)
        assert page == to_html(_description("Co-op"), DEFAULT_DATA_BASE, lang=lang, alternates=alternates)
    other_base = "https://example.org/id/"
    elsewhere = to_html(shared, other_base).decode("utf-8")
    assert elsewhere == to_html(_description("Co-op"), other_base).decode("utf-8")
    assert 'href="/id/other/X1"' not in elsewhere  # not ours under that base: the link is the IRI itself
    fr = to_html(shared, DEFAULT_DATA_BASE, lang="fr").decode("utf-8")
    assert ATTRIBUTE.replace("'", "&#x27;") in fr and f"en: {pages.escape(SCRIPT)}".replace("&#34;", "&quot;") in fr


def test_a_records_file_pages_share_one_frame_and_read_as_rendered_whole() -> None:
    """The static writer gives each page the endings of its other languages and the record's
    file name (`link`), so the layout is rendered once per language: the page must be the
    one rendered with the full links, also when the name holds what HTML escapes."""
    endings = tuple((lang, pages.file_name(".html", lang)) for lang in pages.LANGS)
    for link in ("E1", 'E"1\'<&>'):
        whole = tuple((lang, link + ending) for lang, ending in endings)
        for lang in pages.LANGS:
            page = to_html(_description("Co-op"), DEFAULT_DATA_BASE, lang=lang, alternates=endings, link=link)
            assert page == to_html(_description("Co-op"), DEFAULT_DATA_BASE, lang=lang, alternates=whole)
            assert not any(stand_in in page for stand_in in (b"\x00", b"\x01", b"\x02"))


def test_a_page_from_its_frame_is_the_page_rendered_without_one() -> None:
    """The frame path (layout rendered once per language, split at stand-ins) against the
    templates rendered directly, whole, with a hostile title and file name: a stand-in put
    back in the wrong place, or a value escaped twice or not at all, differs."""
    from markupsafe import Markup

    from se_pipeline.access import describe

    endings = tuple((lang, pages.file_name(".html", lang)) for lang in pages.LANGS)
    formats = {"Turtle": "x.ttl", "JSON-LD": "x.jsonld"}
    for name, link in (("Co-op", "E1"), ('A "q" <b>&amp; \'s', 'E"1\'<&>')):
        d = _description(name)
        parts = describe._page_parts(d, DEFAULT_DATA_BASE)
        for lang in pages.LANGS:
            main = pages.render("enterprise_main.html", lang, (), words=pages.words("enterprise_words.html", lang),
                                title=parts.title, iri=d.iri, source=parts.source, formats=formats.items(),
                                tables=[(h, describe._table(t, lang)) for h, t in parts.tables], same_as=parts.same_as)
            whole = pages.render("enterprise.html", lang, tuple((code, link + ending) for code, ending in endings),
                                 title=Markup(parts.title_html), main=Markup(main))
            page = to_html(d, DEFAULT_DATA_BASE, formats=formats, lang=lang, alternates=endings, link=link)
            assert page.decode("utf-8") == whole


def test_a_link_holding_a_stand_in_is_refused() -> None:
    """The frame is split at control characters standing in for the record's values: a link
    to another language holding one would be read as one, so it is refused."""
    for target in ("E\x01.fr.html", "\x02", "E.fr\x00.html"):
        with pytest.raises(ValueError, match="control character"):
            to_html(_description("Co-op"), DEFAULT_DATA_BASE, lang="en", alternates=(("fr", target),))
        with pytest.raises(ValueError, match="control character"):
            to_html(_description("Co-op"), DEFAULT_DATA_BASE, lang="en", alternates=(("fr", target),), link="E")


def test_every_page_shares_the_layout() -> None:
    """The three kinds of page open with the same frame, from `base.html`."""
    frame = re.compile('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
                       '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                       '(<link rel="alternate" hreflang="(en|fr|es|pt|x-default)" href="[^"]*">\n){5}'
                       '(<meta http-equiv="Content-Security-Policy" content="[^"]*">\n)?<title>')
    ontology = ontology_doc.render_html([], example="x")
    rendered = [_page_of("Co-op"), ontology, landing.render(landing.Page(release_id="r")),
                pages.render("release_links.html", endpoint="/sparql")]
    for html in rendered:
        assert frame.match(html) and html.endswith("</body></html>")
        assert re.search(r"</title><style>\n.*?\n</style></head><body>\n", html, re.S)


def test_environment_is_strict_and_escapes() -> None:
    env = pages.environment()
    assert env.autoescape is True and env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        pages.render("enterprise.html", title="t")  # every variable the page needs must be given
    for name in env.list_templates():
        pages.template(name)  # every template compiles
    assert pages.template("base.html") is pages.template("base.html")  # compiled once per process


def test_landing_links_from_data_are_web_links_only() -> None:
    p = landing.Page(release_id=SCRIPT, title=SCRIPT, licence="javascript:alert(1)")
    p.sources = [landing.SourceRow("s", SCRIPT, ATTRIBUTE, "javascript:alert(2)", "data:text/html,x", SCRIPT)]
    html = landing.render(p)
    assert "<script" not in html.lower() and "onmouseover='" not in html
    assert set(_hrefs(html)) <= {"#", "shacl-report.ttl", "quarantine.csv", "dropped-values.csv",
                                 "index.html", "index.fr.html", "index.es.html", "index.pt.html"}


def test_ontology_links_only_web_iris() -> None:
    evil = ox.NamedNode(SEP + "Evil")
    triples = [ox.Triple(evil, N(RDF_TYPE), N(OWL + "Class")),
               ox.Triple(evil, N("http://www.w3.org/2000/01/rdf-schema#label"), L(SCRIPT, language="en")),
               ox.Triple(evil, N("http://www.w3.org/2000/01/rdf-schema#seeAlso"), N("javascript:alert(1)"))]
    html = ontology_doc.render_html(triples, example=SCRIPT)
    assert "<script" not in html.lower()
    assert "<code>javascript:alert(1)</code>" in html and 'href="javascript:' not in html
